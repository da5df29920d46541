package main

import (
	"time"

	"github.com/pregon/pregon/dispatcher"
)

// zoneName returns the time zone a release's times are shown in: its own,
// or UTC for a release that names none (one created before releases had a
// time zone).
func zoneName(rel *dispatcher.Release) string {
	if rel.Timezone == "" {
		return "UTC"
	}
	return rel.Timezone
}

// inZone writes t in the release's time zone, as RFC 3339 (so that the
// offset is there to read): 2026-02-04T10:00:00-06:00. A zone this machine
// does not know leaves t in UTC.
func inZone(rel *dispatcher.Release, t time.Time) string {
	loc, err := time.LoadLocation(zoneName(rel))
	if err != nil {
		loc = time.UTC
	}
	return t.In(loc).Format(time.RFC3339)
}
