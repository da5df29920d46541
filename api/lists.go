package api

import (
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/pregon/pregon/audit"
	"github.com/pregon/pregon/dispatcher"
)

type listInput struct {
	Name        string              `json:"name"`
	Kind        dispatcher.ListKind `json:"kind"`
	Description string              `json:"description"`
}

// createList handles POST /v1/lists → 201 list.
func (s *Server) createList(w http.ResponseWriter, r *http.Request) error {
	var in listInput
	if err := s.readJSON(w, r, &in, false); err != nil {
		return err
	}
	l := &dispatcher.List{
		Name:        strings.TrimSpace(in.Name),
		Kind:        in.Kind,
		Description: strings.TrimSpace(in.Description),
	}
	var fe fieldErrors
	checkLine(&fe, "name", l.Name, true, 200)
	if !l.Kind.Valid() {
		fe.add("kind", "must be %q or %q", dispatcher.ListPress, dispatcher.ListSubscribers)
	}
	if utf8.RuneCountInString(l.Description) > 2000 {
		fe.add("description", "must be at most 2000 characters")
	}
	if err := fe.err(); err != nil {
		return err
	}
	if err := s.store.CreateList(r.Context(), l); err != nil {
		return err
	}
	if err := s.audit(r, audit.Entry{Action: audit.ListCreate, Target: l.ID,
		Detail: map[string]any{"name": l.Name, "kind": string(l.Kind)}}); err != nil {
		return err
	}
	w.Header().Set("Location", "/v1/lists/"+l.ID)
	return writeJSON(w, http.StatusCreated, l)
}

// getLists handles GET /v1/lists?cursor=&limit= → page of lists, newest first.
func (s *Server) getLists(w http.ResponseWriter, r *http.Request) error {
	var fe fieldErrors
	cursor, limit := pageParams(r.URL.Query(), &fe)
	if err := fe.err(); err != nil {
		return err
	}
	ls, next, err := s.store.Lists(r.Context(), cursor, limit)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, newPage(ls, next))
}

// getList handles GET /v1/lists/{id}.
func (s *Server) getList(w http.ResponseWriter, r *http.Request) error {
	l, err := s.store.List(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, l)
}
