package api

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/pregon/pregon/auth"
)

// IdempotencyStore keeps the Idempotency-Key of POST /v1/releases requests.
// *store.Store implements it. Keys reach it scoped to the token and hashed
// (64 hex digits).
type IdempotencyStore interface {
	// ClaimIdempotencyKey claims key for a request whose body has
	// fingerprint fp, for owner, for at most lease. heldFP is "" when it
	// claimed the key; otherwise the fingerprint of the request holding it,
	// with the release that request created and its status code ("" and 0
	// while it runs).
	ClaimIdempotencyKey(ctx context.Context, key, fp, owner string, lease time.Duration) (heldFP, rid string, status int, err error)
	// FinishIdempotencyKey records the release and status code of owner's
	// request and keeps the key for ttl; dispatcher.ErrConflict when owner's
	// claim had lapsed.
	FinishIdempotencyKey(ctx context.Context, key, owner, rid string, status int, ttl time.Duration) error
	// DropIdempotencyKey frees a key that owner claimed and did not finish.
	DropIdempotencyKey(ctx context.Context, key, owner string) error
}

// Idempotency keys: how long one is remembered, how long a claim holds if
// its request never ends (its process died), how long a request waits for
// another one with its key before it answers 409, and the longest key.
const (
	idempotencyTTL        = 24 * time.Hour
	idempotencyLease      = time.Minute
	idempotencyWait       = 3 * time.Second
	idempotencyPoll       = 50 * time.Millisecond
	maxIdempotencyKey     = 255
	idempotencyHeader     = "Idempotency-Key"
	idempotentReplayedHdr = "Idempotent-Replayed"
)

// Problem types of Idempotency-Key.
const (
	// ProblemIdempotencyKeyReused is the type of a 422 response: the key was
	// used, within idempotencyTTL, with another request body.
	ProblemIdempotencyKeyReused = "urn:pregon:problem:idempotency-key-reused"
	// ProblemIdempotencyKeyInUse is the type of a 409 response: a request
	// with the same key is still running; retry after Retry-After.
	ProblemIdempotencyKeyInUse = "urn:pregon:problem:idempotency-key-in-use"
)

// idemClaim is a request's claim on its Idempotency-Key. Its methods do
// nothing on a nil claim (a request without the header).
type idemClaim struct {
	s          *Server
	key, owner string
	finished   bool
}

// claimIdempotency applies the request's Idempotency-Key header, if any,
// to a request whose decoded body is in. It returns:
//   - nil, false, nil without the header: go on as usual;
//   - a claim, false, nil when this request is the first with its key: go
//     on, then call finish once the release exists, and free in any case;
//   - nil, true, nil when it answered already by replaying the first
//     request's result (the release as it is now, with the first status);
//   - an error: a malformed key (400), the key used with another body
//     (422), the key's first request still running after a short wait (409).
func (s *Server) claimIdempotency(w http.ResponseWriter, r *http.Request, in any) (*idemClaim, bool, error) {
	values, ok := r.Header[idempotencyHeader]
	if !ok {
		return nil, false, nil
	}
	if err := checkIdempotencyKey(values); err != nil {
		return nil, false, err
	}
	if s.idempotency == nil {
		return nil, false, &Problem{Status: http.StatusNotImplemented,
			Detail: "This server does not keep idempotency keys; send the request without an Idempotency-Key header."}
	}
	body, err := json.Marshal(in)
	if err != nil {
		return nil, false, fmt.Errorf("idempotency fingerprint: %w", err)
	}
	sum := sha256.Sum256(body)
	fp := hex.EncodeToString(sum[:])
	c := &idemClaim{s: s, key: scopedKey(r, values[0]), owner: rand.Text()}
	ctx := r.Context()
	deadline := time.Now().Add(idempotencyWait)
	for {
		heldFP, rid, status, err := s.idempotency.ClaimIdempotencyKey(ctx, c.key, fp, c.owner, idempotencyLease)
		switch {
		case err != nil:
			return nil, false, err
		case heldFP == "":
			return c, false, nil
		case heldFP != fp:
			return nil, false, &Problem{Type: ProblemIdempotencyKeyReused, Title: "Idempotency key reused", Status: http.StatusUnprocessableEntity,
				Detail: "This Idempotency-Key was used in the last 24 hours with another request body; use a new key for a new release, or send the same body to get the first result.",
				Errors: []FieldError{{Field: idempotencyHeader, Message: "was used with another request body"}}}
		case rid != "":
			return nil, true, s.replay(w, r, rid, status)
		case !time.Now().Before(deadline):
			return nil, false, &Problem{Type: ProblemIdempotencyKeyInUse, Title: "Request in progress", Status: http.StatusConflict, retryAfter: 1,
				Detail: "A request with this Idempotency-Key is still being processed; retry in a moment to get its result."}
		}
		// The first request with this key is running: wait a moment for
		// its result rather than answering 409 at once.
		t := time.NewTimer(idempotencyPoll)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, false, ctx.Err()
		case <-t.C:
		}
	}
}

// checkIdempotencyKey returns a 400 problem unless the request has one
// Idempotency-Key of 1 to 255 printable ASCII characters.
func checkIdempotencyKey(values []string) error {
	bad := func(msg string) error {
		return invalid("Idempotency-Key "+msg+".", FieldError{Field: idempotencyHeader, Message: msg})
	}
	if len(values) != 1 {
		return bad("must be sent once")
	}
	key := values[0]
	if key == "" || len(key) > maxIdempotencyKey {
		return bad(fmt.Sprintf("must be 1 to %d characters long", maxIdempotencyKey))
	}
	for i := 0; i < len(key); i++ {
		if key[i] < 0x20 || key[i] > 0x7e {
			return bad("must be printable ASCII characters (a UUID is a good key)")
		}
	}
	return nil
}

// scopedKey returns the key the store keeps for an Idempotency-Key: a hash
// of the key and of the request's token, so that two tokens never share a
// key and neither the key nor the token is stored as sent.
func scopedKey(r *http.Request, key string) string {
	_, tok, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	h := sha256.New()
	h.Write([]byte(auth.Hash(strings.TrimSpace(tok))))
	h.Write([]byte{0})
	h.Write([]byte(key))
	return hex.EncodeToString(h.Sum(nil))
}

// replay answers a request with the release the first request with its key
// created, as the release is now, and the first request's status code.
func (s *Server) replay(w http.ResponseWriter, r *http.Request, rid string, status int) error {
	rel, err := s.store.Release(r.Context(), rid)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/v1/releases/"+rid)
	w.Header().Set(idempotentReplayedHdr, "true")
	return s.writeWarned(r.Context(), w, status, rel)
}

// finish records that the claim's request created release rid and answers
// status. The release exists whatever happens here, so a failure is logged,
// not returned: the key then stays claimed until its lease ends.
func (c *idemClaim) finish(ctx context.Context, rid string, status int) {
	if c == nil {
		return
	}
	c.finished = true
	// Recorded even when the client has gone: the release was made.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := c.s.idempotency.FinishIdempotencyKey(ctx, c.key, c.owner, rid, status, idempotencyTTL); err != nil {
		c.s.log.ErrorContext(ctx, "cannot record an idempotency key; a retry with it after a minute may create another release",
			"release_id", rid, "error", err)
	}
}

// free frees the key of a request that created nothing (bad input, an
// error), so that the key is not used up.
func (c *idemClaim) free(ctx context.Context) {
	if c == nil || c.finished {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := c.s.idempotency.DropIdempotencyKey(ctx, c.key, c.owner); err != nil {
		c.s.log.WarnContext(ctx, "cannot free an idempotency key; it frees itself within a minute", "error", err)
	}
}
