package dispatcher

import "strings"

// A Telegram delivery's message ids are recorded as Telegram gave them
// ("42") for messages in the delivery's own chat (its Recipient), and
// qualified with their chat ("-1001234567890:42") for messages in another
// chat: a group upgraded to a supergroup (migrate_to_chat_id) part way
// through a post has the rest of the post in the supergroup, where message
// ids count anew. A chat id is "@name" or a number, so the id is what
// follows the last ':'.

// QualifyMessageID returns message id of chat as a delivery to recipient
// records it: id itself when chat is recipient, else "<chat>:<id>".
func QualifyMessageID(recipient, chat, id string) string {
	if chat == "" || chat == recipient {
		return id
	}
	return chat + ":" + id
}

// SplitMessageID returns the chat and the Telegram message id of id, a
// message id recorded by a delivery to recipient (see QualifyMessageID).
func SplitMessageID(recipient, id string) (chat, msg string) {
	if i := strings.LastIndexByte(id, ':'); i > 0 {
		return id[:i], id[i+1:]
	}
	return recipient, id
}

// qualifyMessageIDs returns ids, message ids Telegram gave in chat, as a
// delivery to recipient records them.
func qualifyMessageIDs(recipient, chat string, ids []string) []string {
	if chat == "" || chat == recipient {
		return ids
	}
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = QualifyMessageID(recipient, chat, id)
	}
	return out
}

// lastChat returns the chat of the last of ids, message ids recorded by a
// delivery to recipient: where the rest of the post goes. It returns
// recipient when ids is empty.
func lastChat(recipient string, ids []string) string {
	if len(ids) == 0 {
		return recipient
	}
	chat, _ := SplitMessageID(recipient, ids[len(ids)-1])
	return chat
}

// firstIn returns the Telegram message id of the first of ids that is in
// chat, or "" when none is.
func firstIn(recipient, chat string, ids []string) string {
	for _, id := range ids {
		if c, m := SplitMessageID(recipient, id); c == chat {
			return m
		}
	}
	return ""
}
