package main

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
)

// deliveryStatuses are the delivery statuses in the order the client shows
// them: pending ones first.
var deliveryStatuses = []string{
	"queued", "retrying", "sending", "sent", "failed", "suppressed", "skipped", "uncertain", "cancelled",
}

// counts are a release's delivery counts as the API sends them:
// {"total": n, "<status>": n, ..., "by_channel": {"email": {"total": n, "<status>": n}}}.
// Statuses the client does not know yet are kept too.
type counts struct {
	Total     int64
	ByStatus  map[string]int64
	ByChannel map[string]map[string]int64
}

// UnmarshalJSON reads counts, ignoring fields that are not numbers.
func (c *counts) UnmarshalJSON(data []byte) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return fmt.Errorf("counts: %w", err)
	}
	*c = counts{ByStatus: map[string]int64{}, ByChannel: map[string]map[string]int64{}}
	for k, v := range raw {
		switch k {
		case "total":
			if err := json.Unmarshal(v, &c.Total); err != nil {
				return fmt.Errorf("counts.total: %w", err)
			}
		case "by_channel":
			if err := json.Unmarshal(v, &c.ByChannel); err != nil {
				return fmt.Errorf("counts.by_channel: %w", err)
			}
		default:
			var n int64
			if json.Unmarshal(v, &n) == nil {
				c.ByStatus[k] = n
			}
		}
	}
	return nil
}

// statuses returns the known statuses in their order, then any other status
// the counts mention, sorted.
func (c *counts) statuses() []string {
	out := slices.Clone(deliveryStatuses)
	extra := map[string]bool{}
	add := func(m map[string]int64) {
		for s := range m {
			if s != "total" && !slices.Contains(deliveryStatuses, s) {
				extra[s] = true
			}
		}
	}
	add(c.ByStatus)
	for _, m := range c.ByChannel {
		add(m)
	}
	return append(out, slices.Sorted(maps.Keys(extra))...)
}
