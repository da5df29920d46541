package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/pregon/pregon/auth"
	"github.com/pregon/pregon/dispatcher"
)

// Contact returns the contact stored under email (normalised), on whatever
// lists it is, or dispatcher.ErrNotFound.
func (s *Store) Contact(ctx context.Context, email string) (*dispatcher.Contact, error) {
	h, err := s.rdb.HGetAll(ctx, contactKey(email)).Result()
	if err != nil {
		return nil, fmt.Errorf("contact %s: %w", email, err)
	}
	if len(h) == 0 {
		return nil, fmt.Errorf("contact %q: %w", email, dispatcher.ErrNotFound)
	}
	c := contactFrom(email, h)
	return &c, nil
}

// UpdateContact replaces the name, outlet, language, tags and attributes of
// the contact c.Email with c's (an empty one is cleared, unlike an import,
// which keeps what a row leaves out). It returns dispatcher.ErrNotFound when
// there is no such contact: an edit never creates one.
func (s *Store) UpdateContact(ctx context.Context, c dispatcher.Contact) error {
	args := []any{}
	for _, f := range [][2]string{{"name", c.Name}, {"outlet", c.Outlet}, {"language", c.Language}} {
		args = append(args, f[0], f[1])
	}
	tags, attrs := "", ""
	if len(c.Tags) > 0 {
		b, _ := json.Marshal(c.Tags)
		tags = string(b)
	}
	if len(c.Attributes) > 0 {
		b, _ := json.Marshal(c.Attributes)
		attrs = string(b)
	}
	args = append(args, "tags", tags, "attrs", attrs)
	n, err := updateContactScript.Run(ctx, s.rdb, []string{contactKey(c.Email)}, args...).Int()
	if err != nil {
		return fmt.Errorf("update contact %s: %w", c.Email, err)
	}
	if n == 0 {
		return fmt.Errorf("contact %q: %w", c.Email, dispatcher.ErrNotFound)
	}
	return s.contactsChanged(ctx)
}

// updateContactScript sets or clears fields of a contact that exists.
//
//	KEYS[1] -> the contact's hash
//	ARGV    -> field, value, field, value, ... (an empty value deletes the field)
//	Output: 1 when changed, 0 when there is no such contact
var updateContactScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
for i = 1, #ARGV, 2 do
  if ARGV[i+1] == '' then
    redis.call('HDEL', KEYS[1], ARGV[i])
  else
    redis.call('HSET', KEYS[1], ARGV[i], ARGV[i+1])
  end
end
return 1
`)

// SetUserRole changes a user's role (from their next request on);
// dispatcher.ErrNotFound if there is no such user.
func (s *Store) SetUserRole(ctx context.Context, email string, role auth.Role) error {
	email = strings.ToLower(strings.TrimSpace(email))
	n, err := setIfExistsScript.Run(ctx, s.rdb, []string{userKeyPrefix + email}, "role", string(role)).Int()
	if err != nil {
		return fmt.Errorf("user %s: %w", email, err)
	}
	if n == 0 {
		return fmt.Errorf("user %s: %w", email, dispatcher.ErrNotFound)
	}
	return nil
}
