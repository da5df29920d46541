package api

import (
	"encoding/csv"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/pregon/pregon/dispatcher"
)

// deliveryColumns are the columns of a deliveries CSV.
var deliveryColumns = []string{"id", "channel", "recipient", "name", "language", "status", "attempts", "error",
	"message_ids", "created_at", "updated_at", "bounce_kind", "bounce_source", "bounce_at"}

// exportDeliveries streams the deliveries of release rid that f lets
// through as CSV (GET /v1/releases/{id}/deliveries?format=csv), one row a
// delivery in deliveryColumns: message ids separated by spaces (a Telegram
// post's, one a part; see dispatcher.QualifyMessageID), times in RFC 3339
// UTC, the bounce columns empty when nothing came back. Like the contacts
// export it starts with a UTF-8 byte order mark, defuses every cell a
// spreadsheet would take for a formula (csvCell), reads the store a page at
// a time (an archived release from its archive), so that a large release is
// never held in memory, and cuts the connection when the store fails after
// the first byte, so that a partial file is never taken for a whole one.
func (s *Server) exportDeliveries(w http.ResponseWriter, r *http.Request, f DeliveryFilter) error {
	ctx, rid := r.Context(), r.PathValue("id")
	ds, next, err := s.store.Deliveries(ctx, rid, f, "", exportPage)
	if err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", "text/csv; charset=utf-8")
	h.Set("Content-Disposition", `attachment; filename="deliveries-`+safeFileName(rid)+`.csv"`)
	w.WriteHeader(http.StatusOK)
	io.WriteString(w, "\uFEFF")
	cw := csv.NewWriter(w)
	cw.Write(deliveryColumns)
	flusher, _ := w.(http.Flusher)
	for {
		for _, d := range ds {
			cw.Write(deliveryRow(d))
		}
		cw.Flush()
		if flusher != nil {
			flusher.Flush()
		}
		if next == "" || ctx.Err() != nil {
			break
		}
		if ds, next, err = s.store.Deliveries(ctx, rid, f, next, exportPage); err != nil {
			s.log.ErrorContext(ctx, "delivery export cut short", "release_id", rid, "error", err)
			panic(http.ErrAbortHandler)
		}
	}
	return nil // a write error means the client went away
}

// deliveryRow is d's row of a deliveries CSV, each cell defused.
func deliveryRow(d *dispatcher.Delivery) []string {
	row := []string{d.ID, string(d.Channel), d.Recipient, d.Name, d.Language, string(d.Status),
		strconv.Itoa(d.Attempts), d.LastError, strings.Join(d.MessageIDs, " "),
		csvTime(d.CreatedAt), csvTime(d.UpdatedAt), "", "", ""}
	if b := d.Bounce; b != nil {
		row[11], row[12], row[13] = string(b.Kind), b.Source, csvTime(b.At)
	}
	for i, c := range row {
		row[i] = csvCell(c)
	}
	return row
}

// csvTime is t in RFC 3339 UTC, "" for the zero time.
func csvTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}
