package dispatcher

import (
	"sync"
)

// contentCache keeps each release's rendered content per language, so that
// a release is rendered once per worker rather than once per recipient.
type contentCache struct {
	mu    sync.Mutex
	max   int
	order []string
	items map[string]*rendered
}

type rendered struct {
	once     sync.Once
	email    *EmailContent
	telegram []string
	err      error
}

func newContentCache(max int) *contentCache {
	return &contentCache{max: max, items: map[string]*rendered{}}
}

func (c *contentCache) get(key string) *rendered {
	c.mu.Lock()
	defer c.mu.Unlock()
	r, ok := c.items[key]
	if !ok {
		r = new(rendered)
		c.items[key] = r
		c.order = append(c.order, key)
		if len(c.order) > c.max {
			delete(c.items, c.order[0])
			c.order = c.order[1:]
		}
	}
	return r
}

func (c *contentCache) email(rel *Release, lang string, r Renderer) (*EmailContent, error) {
	e := c.get("email\x00" + rel.ID + "\x00" + lang)
	e.once.Do(func() { e.email, e.err = r.Email(rel, lang) })
	return e.email, e.err
}

func (c *contentCache) telegram(rel *Release, lang string, r Renderer) ([]string, error) {
	e := c.get("telegram\x00" + rel.ID + "\x00" + lang)
	e.once.Do(func() { e.telegram, e.err = r.Telegram(rel, lang) })
	return e.telegram, e.err
}
