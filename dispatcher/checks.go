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
// and a sentence for the press officer.
type Check struct {
	Name    string     `json:"name"`
	Level   CheckLevel `json:"level"`
	Message string     `json:"message"`
}
