package audit

import "time"

// Query selects a page of entries.
type Query struct {
	// Release keeps only the entries about one release ("" for all).
	Release string
	// Since keeps only the entries recorded at or after it (zero: all).
	Since time.Time
	// Oldest pages from the oldest entry up; the default is newest first.
	Oldest bool
	// Cursor is where the page starts: Page.Next of the page before (0 for
	// the first page). It is an entry number: the page holds it if it
	// matches, and the entries after it (before it, newest first).
	Cursor int64
	// Limit is the most entries a page holds.
	Limit int
}

// Page is one page of entries.
type Page struct {
	Entries []*Entry
	// Next is the Cursor of the next page; 0 on the last one.
	Next int64
	// Head is the end of the chain when the page was read. A page never
	// holds entries after it.
	Head Head
}
