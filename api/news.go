package api

import "net/http"

// news serves the public newsroom (Config.Newsroom; package newsroom) and
// /robots.txt: no token, rate-limited per client as every public page. It
// answers 404 when the server has no newsroom.
func (s *Server) news(w http.ResponseWriter, r *http.Request) error {
	if s.newsroom == nil {
		return &Problem{Status: http.StatusNotFound, Detail: "There is no newsroom on this server."}
	}
	s.newsroom.ServeHTTP(w, r)
	return nil
}
