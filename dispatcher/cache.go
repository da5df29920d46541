package dispatcher

import (
	"fmt"
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

	// attached is email with its attachments' bytes (attach.go), once
	// they were read; attachMu guards it. A failed read is not kept.
	attachMu sync.Mutex
	attached *EmailContent
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

// key names a rendering: of a release's version, in a language, with or
// without its embargo line, and with what its times are read from (the
// embargo and the zone, which PATCH may change while a version holds).
func key(kind string, rel *Release, lang string, embargoed bool) string {
	emb := int64(0)
	if rel.EmbargoUntil != nil {
		emb = rel.EmbargoUntil.UnixMilli()
	}
	return fmt.Sprintf("%s\x00%s\x00%d\x00%s\x00%t\x00%d\x00%s", kind, rel.ID, rel.Version, lang, embargoed, emb, rel.Timezone)
}

// email returns rel's email in lang: the early lists' copy, under the
// embargo line, when embargoed; the copy everyone else gets otherwise.
// The two are cached apart.
func (c *contentCache) email(rel *Release, lang string, embargoed bool, r Renderer) (*EmailContent, error) {
	e := c.get(key("email", rel, lang, embargoed))
	e.once.Do(func() {
		if embargoed {
			e.email, e.err = r.EmbargoedEmail(rel, lang)
		} else {
			e.email, e.err = r.Email(rel, lang)
		}
	})
	return e.email, e.err
}

func (c *contentCache) telegram(rel *Release, lang string, r Renderer) ([]string, error) {
	e := c.get(key("telegram", rel, lang, false))
	e.once.Do(func() { e.telegram, e.err = r.Telegram(rel, lang) })
	return e.telegram, e.err
}

// telegramSummary returns rel's summary post in lang, linking to link.
func (c *contentCache) telegramSummary(rel *Release, lang, link string, r SummaryRenderer) ([]string, error) {
	e := c.get(key("telegram-summary\x00"+link, rel, lang, false))
	e.once.Do(func() { e.telegram, e.err = r.TelegramSummary(rel, lang, link) })
	return e.telegram, e.err
}
