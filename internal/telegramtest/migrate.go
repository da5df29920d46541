package telegramtest

import "strconv"

// pendingMigration is a MigrateAfter not yet due: the group becomes the
// supergroup to once it has accepted left more messages.
type pendingMigration struct {
	left int
	to   int64
}

// MigrateAfter upgrades group from to the supergroup to once from has
// accepted k more messages (k < 1: at once, as Migrate): a post is cut by
// the upgrade part way, as it can be on Telegram. From then on every
// request to from (sendMessage, editMessageText) fails as Telegram's do,
// with 400 "Bad Request: group chat was upgraded to a supergroup chat" and
// parameters.migrate_to_chat_id; to is a chat where the bot may post, with
// message ids of its own (1, 2, 3…). Both are numeric chat ids; from is
// added when unknown. A later call replaces one not yet due.
func (s *Server) MigrateAfter(from, to string, k int) {
	if k < 1 {
		s.Migrate(from, to)
		return
	}
	id, err := strconv.ParseInt(to, 10, 64)
	if err != nil {
		panic("telegramtest: the supergroup's chat id must be a number: " + to)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.addChatLocked(to).kicked = false
	s.addChatLocked(from).migrating = &pendingMigration{left: k, to: id}
}

// acceptedLocked counts a message c accepted towards a pending
// MigrateAfter, and upgrades c once it is due.
func (c *chat) acceptedLocked() {
	m := c.migrating
	if m == nil {
		return
	}
	if m.left--; m.left <= 0 {
		c.migratedTo, c.migrating = m.to, nil
	}
}
