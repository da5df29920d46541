package dispatcher

// CheckLevel is how much a pre-send check's finding matters.
type CheckLevel string

// The levels of a check: only an error makes a send wrong, and refuses it.
const (
	CheckOK      CheckLevel = "ok"
	CheckWarning CheckLevel = "warning"
	CheckError   CheckLevel = "error"
)

// Check is one item of a release's pre-send checklist: its name
// ("languages", "embargo", "audiences", "attachments", "links"), its level,
// and a sentence for the press officer. Notes say the same as Message in
// parts a program can read (one per statement, in order), so that an
// interface can say it in its own language.
type Check struct {
	Name    string     `json:"name"`
	Level   CheckLevel `json:"level"`
	Message string     `json:"message"`
	Notes   []Note     `json:"notes,omitempty"`
}

// Note is one statement of a message, as a code ("audiences.suppressed")
// and the values it names ({"n": 12}). A value is a number, a string, a
// list of strings, or a list of notes (the parts of an enumeration).
type Note struct {
	Code string         `json:"code"`
	Args map[string]any `json:"args,omitempty"`
}
