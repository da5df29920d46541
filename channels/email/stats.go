package email

// Conns returns how many SMTP connections the channel holds: those idle in
// its pool and those in use (or being opened) by a send, for metrics.
func (c *Channel) Conns() int {
	c.mu.Lock()
	idle := len(c.idle)
	c.mu.Unlock()
	return idle + len(c.slots)
}
