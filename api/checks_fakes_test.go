package api

import (
	"context"

	"github.com/pregon/pregon/dispatcher"
)

// Members returns a page of a list's members, read like Contacts (an
// unknown list has none, as in the Redis store).
func (m *memStore) Members(ctx context.Context, listID, cursor string, limit int) ([]dispatcher.Member, string, error) {
	cs, next, err := m.Contacts(ctx, listID, cursor, limit)
	if err != nil {
		return nil, "", nil
	}
	out := make([]dispatcher.Member, len(cs))
	for i, c := range cs {
		out[i] = dispatcher.Member{Email: c.Email, Name: c.Name, Language: c.Language}
	}
	return out, next, nil
}

func (m *memStore) Suppressed(ctx context.Context, emails []string) ([]bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]bool, len(emails))
	for i, e := range emails {
		_, out[i] = m.suppressed[e]
	}
	return out, nil
}
