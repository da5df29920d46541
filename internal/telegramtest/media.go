package telegramtest

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Media: sendPhoto, sendDocument and sendMediaGroup take files uploaded in
// a multipart body or, for a file uploaded before, its file_id; the fake
// gives each upload a new file_id, counts uploads and file_id sends
// (Uploads, FileIDSends), refuses a file_id it does not know (or was told
// to forget, ForgetFileIDs), a caption over MaxCaptionLength, an album of
// other than 2 to MaxAlbum items, and counts each message of an album
// against the rate limits. editMessageCaption edits a photo's or
// document's caption.

// The kinds of Message.
const (
	KindText     = "text"
	KindPhoto    = "photo"
	KindDocument = "document"
)

// Telegram's limits on media.
const (
	MaxCaptionLength = 1024
	MaxAlbum         = 10
	MaxPhotoBytes    = 10 << 20
	MaxDocumentBytes = 50 << 20
)

// mediaState is what the fake keeps of files.
type mediaState struct {
	files       map[string]storedFile // by file_id
	next        int
	uploads     int64
	fileIDSends int64
}

type storedFile struct {
	kind   string
	size   int
	sha256 string
}

// Uploads returns how many files were uploaded in accepted requests.
func (s *Server) Uploads() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.media.uploads
}

// FileIDSends returns how many files were sent by file_id in accepted
// requests.
func (s *Server) FileIDSends() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.media.fileIDSends
}

// ForgetFileIDs makes every file_id given so far unknown, as when
// Telegram no longer accepts an id: requests that send one are refused
// with 400 "wrong file identifier".
func (s *Server) ForgetFileIDs() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.media.files = nil
}

// mediaItem is one file of a media request: uploaded, or a file_id.
type mediaItem struct {
	kind     string
	fileID   string // as sent, "" for an upload
	filename string
	data     []byte
	caption  string
	mode     string
	plain    string
}

const descWrongFileID = "Bad Request: wrong file identifier/HTTP URL specified"

func (s *Server) serveMedia(w http.ResponseWriter, r *http.Request, method string) {
	defer io.Copy(io.Discard, r.Body)
	params := make(map[string]string)
	for k, v := range r.URL.Query() {
		params[k] = v[0]
	}
	var files map[string][]*multipart.FileHeader
	if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
		if err := r.ParseMultipartForm(MaxDocumentBytes); err != nil {
			writeError(w, http.StatusBadRequest, "Bad Request: can't parse multipart body: "+err.Error())
			return
		}
		for k, v := range r.MultipartForm.Value {
			params[k] = v[0]
		}
		files = r.MultipartForm.File
	} else {
		p, err := readParams(r)
		if err != nil {
			writeError(w, http.StatusBadRequest, "Bad Request: "+err.Error())
			return
		}
		params = p
	}
	if method == "editmessagecaption" {
		s.editMessageCaption(w, r, params)
		return
	}
	var items []mediaItem
	switch method {
	case "sendphoto", "senddocument":
		kind, field := KindPhoto, "photo"
		if method == "senddocument" {
			kind, field = KindDocument, "document"
		}
		it, problem := fileItem(kind, params[field], files[field])
		if problem != "" {
			writeError(w, http.StatusBadRequest, problem)
			return
		}
		it.caption, it.mode = params["caption"], params["parse_mode"]
		items = []mediaItem{it}
	case "sendmediagroup":
		var media []struct {
			Type      string `json:"type"`
			Media     string `json:"media"`
			Caption   string `json:"caption"`
			ParseMode string `json:"parse_mode"`
		}
		if err := json.Unmarshal([]byte(params["media"]), &media); err != nil {
			writeError(w, http.StatusBadRequest, "Bad Request: can't parse media JSON object")
			return
		}
		if len(media) < 2 || len(media) > MaxAlbum {
			writeError(w, http.StatusBadRequest, "Bad Request: wrong number of media in the album: must be 2-10")
			return
		}
		for _, m := range media {
			kind := map[string]string{"photo": KindPhoto, "document": KindDocument}[m.Type]
			if kind == "" {
				writeError(w, http.StatusBadRequest, "Bad Request: unsupported media type "+m.Type)
				return
			}
			var it mediaItem
			problem := ""
			if name, ok := strings.CutPrefix(m.Media, "attach://"); ok {
				if len(files[name]) == 0 {
					writeError(w, http.StatusBadRequest, "Bad Request: file "+name+" is not attached")
					return
				}
				it, problem = fileItem(kind, "", files[name])
			} else {
				it, problem = fileItem(kind, m.Media, nil)
			}
			if problem != "" {
				writeError(w, http.StatusBadRequest, problem)
				return
			}
			it.caption, it.mode = m.Caption, m.ParseMode
			items = append(items, it)
		}
	}
	for i := range items {
		plain, problem := checkCaption(items[i].caption, items[i].mode)
		if problem != "" {
			writeError(w, http.StatusBadRequest, problem)
			return
		}
		items[i].plain = plain
	}
	s.sendMedia(w, r, params, items, method == "sendmediagroup")
}

// fileItem reads one file of a request: fileID when the request sent one,
// else the upload in fh. It returns Telegram's description of what is
// wrong, if anything.
func fileItem(kind, fileID string, fh []*multipart.FileHeader) (mediaItem, string) {
	it := mediaItem{kind: kind}
	if len(fh) == 0 {
		if fileID == "" {
			return it, "Bad Request: there is no " + kind + " in the request"
		}
		it.fileID = fileID
		return it, ""
	}
	f, err := fh[0].Open()
	if err != nil {
		return it, "Bad Request: can't read the file"
	}
	defer f.Close()
	if it.data, err = io.ReadAll(f); err != nil {
		return it, "Bad Request: can't read the file"
	}
	it.filename = fh[0].Filename
	switch {
	case len(it.data) == 0:
		return it, "Bad Request: file must be non-empty"
	case kind == KindPhoto && len(it.data) > MaxPhotoBytes:
		return it, "Bad Request: PHOTO_INVALID_DIMENSIONS"
	case kind == KindPhoto && !strings.HasPrefix(http.DetectContentType(it.data), "image/"):
		return it, "Bad Request: IMAGE_PROCESS_FAILED"
	case len(it.data) > MaxDocumentBytes:
		return it, "Bad Request: file is too big"
	}
	return it, ""
}

// checkCaption validates a caption (which may be empty) for parse mode
// mode, as checkText a message's text, and returns the text a reader sees
// or Telegram's description of what is wrong.
func checkCaption(caption, mode string) (string, string) {
	if caption == "" {
		return "", ""
	}
	if !utf8.ValidString(caption) {
		return "", "Bad Request: text must be encoded in UTF-8"
	}
	plain := caption
	if strings.EqualFold(mode, "html") {
		p, err := ParseHTML(caption)
		if err != nil {
			return "", "Bad Request: can't parse entities: " + err.Error()
		}
		plain = p
	}
	plain = strings.TrimFunc(plain, unicode.IsSpace)
	if UTF16Len(plain) > MaxCaptionLength {
		return "", "Bad Request: message caption is too long"
	}
	return plain, ""
}

// apiFile is a photo size or a document as a message carries it.
type apiFile struct {
	FileID       string `json:"file_id"`
	FileUniqueID string `json:"file_unique_id"`
	FileSize     int    `json:"file_size,omitempty"`
	FileName     string `json:"file_name,omitempty"`
	Width        int    `json:"width,omitempty"`
	Height       int    `json:"height,omitempty"`
}

// apiMediaMessage is a photo or document message as the Bot API returns it.
type apiMediaMessage struct {
	MessageID    int64     `json:"message_id"`
	SenderChat   apiChat   `json:"sender_chat"`
	Date         int64     `json:"date"`
	Chat         apiChat   `json:"chat"`
	Caption      string    `json:"caption,omitempty"`
	Photo        []apiFile `json:"photo,omitempty"`
	Document     *apiFile  `json:"document,omitempty"`
	MediaGroupID string    `json:"media_group_id,omitempty"`
	EditDate     int64     `json:"edit_date,omitempty"`
}

func mediaMessage(m *Message, ac apiChat, size int) apiMediaMessage {
	out := apiMediaMessage{MessageID: m.ID, SenderChat: ac, Date: m.Date.Unix(), Chat: ac, Caption: m.PlainText,
		MediaGroupID: m.MediaGroupID}
	if m.Edits > 0 {
		out.EditDate = m.EditDate.Unix()
	}
	f := apiFile{FileID: m.FileID, FileUniqueID: "u" + m.FileID, FileSize: size}
	if m.Kind == KindPhoto {
		small := f
		small.FileID, small.FileUniqueID, small.Width, small.Height = m.FileID+"-s", "u"+m.FileID+"-s", 90, 60
		f.Width, f.Height = 1280, 853
		out.Photo = []apiFile{small, f}
	} else {
		f.FileName = m.Filename
		out.Document = &f
	}
	return out
}

// sendMedia posts items (one, or an album) after the checks every message
// goes through: the chat, a reply, the rate limits (each item counts), the
// file_ids sent.
func (s *Server) sendMedia(w http.ResponseWriter, r *http.Request, params map[string]string, items []mediaItem, album bool) {
	req := s.admitChat(w, r, params)
	if req == nil {
		return
	}
	c := req.c
	reply, allowWithout := replyTo(params)

	s.mu.Lock()
	if reply != 0 {
		if m := c.messageLocked(reply); m == nil || m.Deleted {
			if !allowWithout {
				s.mu.Unlock()
				writeError(w, http.StatusBadRequest, "Bad Request: message to be replied not found")
				return
			}
			reply = 0
		}
	}
	for _, it := range items {
		if it.fileID == "" {
			continue
		}
		if f, ok := s.media.files[it.fileID]; !ok || f.kind != it.kind {
			s.mu.Unlock()
			writeError(w, http.StatusBadRequest, descWrongFileID)
			return
		}
	}
	now := s.now()
	if s.rateLimitedNLocked(w, c, now, len(items)) {
		s.mu.Unlock()
		return
	}
	silent, _ := strconv.ParseBool(params["disable_notification"])
	group := ""
	if album {
		s.media.next++
		group = "g" + strconv.Itoa(s.media.next)
	}
	var out []apiMediaMessage
	ac := apiChat{ID: c.id, Type: "channel", Title: c.title, Username: c.username}
	for _, it := range items {
		fileID, size := it.fileID, 0
		if fileID == "" {
			if s.media.files == nil {
				s.media.files = make(map[string]storedFile)
			}
			s.media.next++
			sum := sha256.Sum256(it.data)
			prefix := map[string]string{KindPhoto: "AgAC", KindDocument: "BQAC"}[it.kind]
			fileID = fmt.Sprintf("%s%d-%s", prefix, s.media.next, hex.EncodeToString(sum[:6]))
			s.media.files[fileID] = storedFile{kind: it.kind, size: len(it.data), sha256: hex.EncodeToString(sum[:])}
			s.media.uploads++
			size = len(it.data)
		} else {
			s.media.fileIDSends++
			size = s.media.files[fileID].size
		}
		c.lastID++
		m := Message{ID: c.lastID, ChatID: c.key, Text: it.caption, ParseMode: it.mode, PlainText: it.plain,
			Silent: silent, Date: now, ReplyTo: reply, Kind: it.kind, FileID: fileID, Uploaded: it.fileID == "",
			Filename: it.filename, MediaGroupID: group, LinkPreviewDisabled: true}
		c.messages = append(c.messages, m)
		c.acceptedLocked() // migrate.go
		s.total++
		out = append(out, mediaMessage(&m, ac, size))
	}
	s.notifyLocked()
	s.mu.Unlock()

	if req.fail != nil {
		s.fail(w, r, *req.fail)
		return
	}
	if album {
		writeJSON(w, http.StatusOK, apiResponse{OK: true, Result: out})
		return
	}
	writeJSON(w, http.StatusOK, apiResponse{OK: true, Result: out[0]})
}

// editMessageCaption replaces the caption of a photo or document the bot
// posted, as Telegram does: the message must exist, not be deleted, carry a
// caption's place (not be text), and the new caption must differ.
func (s *Server) editMessageCaption(w http.ResponseWriter, r *http.Request, params map[string]string) {
	id, err := strconv.ParseInt(params["message_id"], 10, 64)
	if err != nil || id == 0 {
		writeError(w, http.StatusBadRequest, "Bad Request: message identifier is not specified")
		return
	}
	caption, mode := params["caption"], params["parse_mode"]
	plain, problem := checkCaption(caption, mode)
	req := s.admitChat(w, r, params)
	if req == nil {
		return
	}
	if problem != "" {
		writeError(w, http.StatusBadRequest, problem)
		return
	}
	c := req.c

	s.mu.Lock()
	m := c.messageLocked(id)
	switch {
	case m == nil || m.Deleted:
		s.mu.Unlock()
		writeError(w, http.StatusBadRequest, "Bad Request: message to edit not found")
		return
	case m.Kind == "" || m.Kind == KindText:
		s.mu.Unlock()
		writeError(w, http.StatusBadRequest, "Bad Request: there is no caption in the message to edit")
		return
	case m.Text == caption && m.ParseMode == mode:
		s.mu.Unlock()
		writeError(w, http.StatusBadRequest, "Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message")
		return
	}
	now := s.now()
	if s.rateLimitedLocked(w, c, now) {
		s.mu.Unlock()
		return
	}
	m.Text, m.ParseMode, m.PlainText = caption, mode, plain
	m.Edits++
	m.EditDate = now
	out := mediaMessage(m, apiChat{ID: c.id, Type: "channel", Title: c.title, Username: c.username}, s.media.files[m.FileID].size)
	s.notifyLocked()
	s.mu.Unlock()

	if req.fail != nil {
		s.fail(w, r, *req.fail)
		return
	}
	writeJSON(w, http.StatusOK, apiResponse{OK: true, Result: out})
}
