package audit

// Actions of the web app's people (issue 14). Target is the user's email;
// the actor of a sign-in or sign-out is the person themself.
const (
	UserCreate  Action = "user.create"  // Detail: role
	UserDisable Action = "user.disable" // Detail: disabled (true, or false when enabled again)
	UserSignIn  Action = "user.signin"
	UserSignOut Action = "user.signout"
)
