package dispatcher

import "sync"

// holding is the set of deliveries this process has claimed and not yet
// recorded. Its own claims go stale in Redis while Redis is frozen or away
// (renewals fail), yet the process still holds them and records them once
// Redis is back: neither its sweeper nor its tasks may take them over, which
// would send them again and leave the first send unrecorded.
type holding struct {
	mu  sync.Mutex
	ids map[string]struct{}
}

func holdKey(rid, id string) string { return rid + "/" + id }

func (h *holding) add(rid string, cs []*Claimed) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.ids == nil {
		h.ids = map[string]struct{}{}
	}
	for _, c := range cs {
		h.ids[holdKey(rid, c.ID)] = struct{}{}
	}
}

func (h *holding) remove(rid string, outs []Outcome) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, o := range outs {
		delete(h.ids, holdKey(rid, o.ID))
	}
}

func (h *holding) has(rid, id string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	_, ok := h.ids[holdKey(rid, id)]
	return ok
}

// notHeld returns refs without those this process holds.
func (h *holding) notHeld(rid string, refs []Ref) []Ref {
	out := refs[:0:0]
	for _, r := range refs {
		if !h.has(rid, r.ID) {
			out = append(out, r)
		}
	}
	return out
}
