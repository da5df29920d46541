package dispatcher

import "fmt"

// Edit is one change of a release's content, as the store writes it: in one
// step, and only while the release is still as the edit found it.
type Edit struct {
	// Release is the release as it is to be stored, its ID naming it. The
	// store sets its Version to Base+1 and its UpdatedAt; its status, send
	// time, author and approval are the store's own and are not changed by
	// the edit.
	Release *Release
	// Base is the version the edit was made from: the store refuses the edit
	// (ConflictVersion) when the release is at another version by then.
	Base int
	// OnlyEmbargo says that the edit changes embargo_until and nothing else,
	// which is all that may change once the early lists were given the
	// release under embargo (ConflictEarly otherwise).
	OnlyEmbargo bool
	// RequireApproval says that releases are sent only once approved. The
	// edit withdraws the approval, so a scheduled release goes back to draft
	// (to be approved and sent again) unless its early copies went out.
	RequireApproval bool
	// DraftOnly says that the release as edited could not be sent (it has
	// no audience, or a version without a text): only a draft may take it,
	// and a release scheduled meanwhile refuses it (ConflictIncomplete).
	DraftOnly bool
}

// ConflictReason says why a release refused an edit, an approval or a send.
type ConflictReason string

// The reasons of a ConflictError.
const (
	// ConflictVersion: the release is at another version than the one asked for.
	ConflictVersion ConflictReason = "version"
	// ConflictStatus: the release is no longer a draft or scheduled.
	ConflictStatus ConflictReason = "status"
	// ConflictEarly: the early lists have the release under embargo; only
	// its embargo may move.
	ConflictEarly ConflictReason = "early"
	// ConflictOwnRelease: a coordinator asked to approve a release of their own.
	ConflictOwnRelease ConflictReason = "own_release"
	// ConflictUnapproved: approval is required and the current version is not approved.
	ConflictUnapproved ConflictReason = "unapproved"
	// ConflictIncomplete: the release is scheduled, and the edit would
	// leave it with no audience or a version without a text.
	ConflictIncomplete ConflictReason = "incomplete"
)

// ConflictError is an edit, approval or send that the release refused for
// the state it was in. errors.Is(err, ErrConflict) holds for it.
type ConflictError struct {
	ID     string
	Reason ConflictReason
	// Status, Version and Author are the release's when it refused.
	Status  ReleaseStatus
	Version int
	Author  string
}

func (e *ConflictError) Error() string {
	switch e.Reason {
	case ConflictVersion:
		return fmt.Sprintf("release %s is at version %d", e.ID, e.Version)
	case ConflictStatus:
		return fmt.Sprintf("release %s is %s: it can be changed only while it is a draft or scheduled", e.ID, e.Status)
	case ConflictEarly:
		return fmt.Sprintf("release %s went to its early lists under embargo: only its embargo may move now", e.ID)
	case ConflictOwnRelease:
		return fmt.Sprintf("release %s was written by %s, who cannot approve it", e.ID, e.Author)
	case ConflictIncomplete:
		return fmt.Sprintf("release %s is %s: it must keep an audience and a text in every version", e.ID, e.Status)
	case ConflictUnapproved:
		return fmt.Sprintf("release %s needs approval of version %d by a coordinator other than %s", e.ID, e.Version, e.Author)
	}
	return fmt.Sprintf("release %s: conflict (%s)", e.ID, e.Reason)
}

// Is makes errors.Is(err, ErrConflict) hold.
func (e *ConflictError) Is(target error) bool { return target == ErrConflict }
