package dispatcher

import (
	"encoding/json"
)

// NewCounts returns empty counts.
func NewCounts() *Counts {
	return &Counts{ByStatus: map[DeliveryStatus]int64{}, ByChannel: map[ChannelKind]map[DeliveryStatus]int64{}}
}

// Add records n deliveries of a channel in a status. A negative n (which
// the store never records) counts as none, so that no status ever exceeds
// the total.
func (c *Counts) Add(ch ChannelKind, s DeliveryStatus, n int64) {
	if n <= 0 {
		return
	}
	c.Total += n
	c.ByStatus[s] += n
	m := c.ByChannel[ch]
	if m == nil {
		m = map[DeliveryStatus]int64{}
		c.ByChannel[ch] = m
	}
	m[s] += n
}

// MarshalJSON writes counts as {"total", one field per status, "by_channel"}, with
// every status present so that clients can rely on the fields.
func (c *Counts) MarshalJSON() ([]byte, error) {
	out := map[string]any{"total": c.Total}
	for _, s := range DeliveryStatuses {
		out[string(s)] = c.ByStatus[s]
	}
	byCh := map[string]map[string]int64{}
	for ch, m := range c.ByChannel {
		mm := map[string]int64{}
		var total int64
		for _, s := range DeliveryStatuses {
			mm[string(s)] = m[s]
			total += m[s]
		}
		mm["total"] = total
		byCh[string(ch)] = mm
	}
	out["by_channel"] = byCh
	return json.Marshal(out)
}
