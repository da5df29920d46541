package store_test

import (
	"context"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/pregon/pregon/auth"
	"github.com/pregon/pregon/dispatcher"
	"github.com/pregon/pregon/internal/redistest"
	"github.com/pregon/pregon/store"
)

// TestUpdateContact replaces a contact's fields, clearing the ones left
// empty (where an import keeps them), and never creates a contact.
func TestUpdateContact(t *testing.T) {
	ctx := context.Background()
	s := store.New(redistest.Start(t).Client(t), nil)
	l := &dispatcher.List{Name: "Prensa", Kind: dispatcher.ListPress}
	if err := s.CreateList(ctx, l); err != nil {
		t.Fatal(err)
	}
	orig := dispatcher.Contact{Email: "marta@diario.example", Name: "Marta", Outlet: "Diario", Language: "es",
		Tags: []string{"agua"}, Attributes: map[string]string{"city": "Oaxaca"}}
	if _, _, err := s.UpsertContacts(ctx, l.ID, []dispatcher.Contact{orig}); err != nil {
		t.Fatal(err)
	}
	edit := dispatcher.Contact{Email: orig.Email, Name: "Marta Ruiz", Language: "en", Tags: []string{"agua", "minería"}}
	if err := s.UpdateContact(ctx, edit); err != nil {
		t.Fatal(err)
	}
	got, err := s.Contact(ctx, orig.Email)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(&edit, got); diff != "" {
		t.Errorf("contact after the edit (-want +got):\n%s", diff)
	}
	cs, _, err := s.Contacts(ctx, l.ID, "", 10)
	if err != nil || len(cs) != 1 || cs[0].Name != "Marta Ruiz" || cs[0].Outlet != "" {
		t.Errorf("list members after the edit: %+v, %v", cs, err)
	}
	if err := s.UpdateContact(ctx, dispatcher.Contact{Email: "nadie@example.org", Name: "X"}); !errors.Is(err, dispatcher.ErrNotFound) {
		t.Errorf("edit of an unknown contact: %v, want ErrNotFound", err)
	}
	if _, err := s.Contact(ctx, "nadie@example.org"); !errors.Is(err, dispatcher.ErrNotFound) {
		t.Errorf("the refused edit made a contact: %v", err)
	}
}

// TestSetUserRole changes a user's role, and refuses an unknown user.
func TestSetUserRole(t *testing.T) {
	ctx := context.Background()
	s := store.New(redistest.Start(t).Client(t), nil)
	if err := s.CreateUser(ctx, &auth.User{Email: "vero@example.org", Role: auth.RoleViewer, PasswordHash: "x"}); err != nil {
		t.Fatal(err)
	}
	if err := s.SetUserRole(ctx, "Vero@example.org", auth.RoleCoordinator); err != nil {
		t.Fatal(err)
	}
	if u, err := s.User(ctx, "vero@example.org"); err != nil || u.Role != auth.RoleCoordinator {
		t.Errorf("user after the change: %+v, %v", u, err)
	}
	if err := s.SetUserRole(ctx, "nadie@example.org", auth.RoleAdmin); !errors.Is(err, dispatcher.ErrNotFound) {
		t.Errorf("unknown user: %v, want ErrNotFound", err)
	}
}
