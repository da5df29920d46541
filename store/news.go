package store

// The newsroom's index of published releases (issue 15). A release enters
// it when it is scheduled (IndexNews, called by every method that changes
// what PublishedAt says), under its publication time; readers take only the
// entries whose time has come, so a release shows at its embargo's lift
// without any process having to act at that moment.
//
//	pregon:news:<lang>           ZSET  release ids by publication time (Unix ms)
//	pregon:news:<lang>:slugs     HASH  "yyyy/mm/slug" → release id
//	pregon:{<rid>}:news          HASH  the release's entry (newsAt, newsUpdated, newsFix, newsRetracted, newsPath+lang)
//	pregon:news-indexed          STRING "1" once the releases sent before the newsroom existed are in it
//
// A release's slugs are made from its title in each language when it
// enters the index, unique within their month; they change with its title
// or its publication month until it is public, and never after.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/pregon/pregon/dispatcher"
	"github.com/redis/go-redis/v9"
	"golang.org/x/text/unicode/norm"
)

// Fields of a release's newsroom entry (pregon:{<rid>}:news).
const (
	newsAt        = "at"  // Unix ms it is public from
	newsUpdated   = "upd" // Unix ms of its latest correction ("" when none)
	newsFix       = "fix" // id of its latest correction seen
	newsRetracted = "ret" // "1" once a correction retracted it
	newsPath      = "p:"  // + language: "yyyy/mm/slug" of that version
)

func newsKey(lang string) string      { return prefix + "news:" + lang }
func newsSlugsKey(lang string) string { return prefix + "news:" + lang + ":slugs" }
func newsEntryKey(rid string) string  { return prefix + "{" + rid + "}:news" }

// ErrNewsCursor is returned by NewsPage for a cursor it did not make.
var ErrNewsCursor = errors.New("bad newsroom cursor")

// NewsEntry is a release as the newsroom shows it.
type NewsEntry struct {
	Release *dispatcher.Release
	// PublishedAt is when it became (or becomes) public; Updated when its
	// latest correction was made (zero when none).
	PublishedAt, Updated time.Time
	// Paths holds, by language, the "yyyy/mm/slug" of each version.
	Paths map[string]string
	// Retracted is set once a correction retracted the release.
	Retracted bool
}

// Modified returns the later of PublishedAt and Updated.
func (e *NewsEntry) Modified() time.Time {
	if e.Updated.After(e.PublishedAt) {
		return e.Updated
	}
	return e.PublishedAt
}

// claimSlugScript gives a release a slug in a month of a language: base,
// or base-2, base-3, ... the first that is free or already the release's.
//
// KEYS[1] -> pregon:news:<lang>:slugs
// ARGV[1] -> "yyyy/mm/"
// ARGV[2] -> the base slug
// ARGV[3] -> the release id
//
// Output: the path claimed, "yyyy/mm/slug".
var claimSlugScript = redis.NewScript(`
for n = 1, 10000 do
  local p = ARGV[1] .. ARGV[2]
  if n > 1 then p = p .. '-' .. n end
  local cur = redis.call('HGET', KEYS[1], p)
  if not cur then
    redis.call('HSET', KEYS[1], p, ARGV[3])
    return p
  end
  if cur == ARGV[3] then return p end
end
return redis.error_reply('no free slug')
`)

// IndexNews brings release id's newsroom entry up to date with the
// release: it enters the index of each of its languages under its
// publication time, with a slug per language, or leaves them when it is
// not to be published (a draft, a cancelled release); a correction's time
// and retraction are recorded. Once the release is public its time and
// slugs no longer change. It is idempotent, and a no-op for an unknown id.
func (s *Store) IndexNews(ctx context.Context, id string) error {
	if !validID("rel", id) {
		return nil
	}
	rel, err := s.Release(ctx, id)
	if err != nil {
		if errors.Is(err, dispatcher.ErrNotFound) {
			return nil
		}
		return fmt.Errorf("newsroom index of %s: %w", id, err)
	}
	rec, err := s.rdb.HGetAll(ctx, newsEntryKey(id)).Result()
	if err != nil {
		return fmt.Errorf("newsroom index of %s: %w", id, err)
	}
	now := s.now()
	old := map[string]string{}
	for k, v := range rec {
		if lang, ok := strings.CutPrefix(k, newsPath); ok {
			old[lang] = v
		}
	}
	pub, ok := rel.PublishedAt()
	if !ok {
		return s.unindexNews(ctx, id, old)
	}
	frozen := false
	if at := parseTime(rec[newsAt]); rec[newsAt] != "" && !now.Before(at) {
		pub, frozen = at, true
	}
	month := pub.UTC().Format("2006/01/")
	fields := []any{newsAt, fmtTime(pub)}
	p := s.rdb.Pipeline()
	for _, lang := range rel.Languages() {
		want := Slug(rel.Text(lang).Title)
		path := old[lang]
		if path == "" || (!frozen && !slugFits(path, month, want)) {
			np, err := claimSlugScript.Run(ctx, s.rdb, []string{newsSlugsKey(lang)}, month, want, id).Text()
			if err != nil {
				return fmt.Errorf("newsroom slug of %s in %s: %w", id, lang, err)
			}
			if path != "" && path != np {
				p.HDel(ctx, newsSlugsKey(lang), path)
			}
			path = np
		}
		delete(old, lang)
		fields = append(fields, newsPath+lang, path)
		p.ZAdd(ctx, newsKey(lang), redis.Z{Score: float64(pub.UnixMilli()), Member: id})
	}
	for lang, path := range old { // languages it no longer has
		p.ZRem(ctx, newsKey(lang), id)
		p.HDel(ctx, newsSlugsKey(lang), path)
		p.HDel(ctx, newsEntryKey(id), newsPath+lang)
	}
	if _, fix, err := s.LastCorrection(ctx, id); err != nil {
		return err
	} else if fix != "" && fix != rec[newsFix] {
		fields = append(fields, newsFix, fix, newsUpdated, fmtTime(now))
		if retracted, err := s.isRetraction(ctx, id, fix); err != nil {
			return err
		} else if retracted {
			fields = append(fields, newsRetracted, "1")
		}
	}
	p.HSet(ctx, newsEntryKey(id), fields...)
	if _, err := p.Exec(ctx); err != nil {
		return fmt.Errorf("newsroom index of %s: %w", id, err)
	}
	return nil
}

// unindexNews takes release id out of the newsroom.
func (s *Store) unindexNews(ctx context.Context, id string, paths map[string]string) error {
	p := s.rdb.Pipeline()
	for lang, path := range paths {
		p.ZRem(ctx, newsKey(lang), id)
		p.HDel(ctx, newsSlugsKey(lang), path)
	}
	p.Del(ctx, newsEntryKey(id))
	if _, err := p.Exec(ctx); err != nil {
		return fmt.Errorf("newsroom index of %s: %w", id, err)
	}
	return nil
}

// isRetraction reports whether correction fix of release rid retracts it.
func (s *Store) isRetraction(ctx context.Context, rid, fix string) (bool, error) {
	doc, err := s.rdb.HGet(ctx, correctionDocsKey(rid), fix).Result()
	if isNil(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("correction %s of %s: %w", fix, rid, err)
	}
	var c dispatcher.Release
	if err := json.Unmarshal([]byte(doc), &c); err != nil {
		return false, fmt.Errorf("decode correction %s of %s: %w", fix, rid, err)
	}
	return c.CorrectionOf != nil && c.CorrectionOf.Retraction, nil
}

// slugFits reports whether path is in month and made from slug want (want
// itself, or want-N).
func slugFits(path, month, want string) bool {
	rest, ok := strings.CutPrefix(path, month)
	if !ok {
		return false
	}
	if rest == want {
		return true
	}
	n, ok := strings.CutPrefix(rest, want+"-")
	if !ok {
		return false
	}
	_, err := strconv.Atoi(n)
	return err == nil
}

// NewsPage returns the releases public at now in lang, newest first, at
// most limit of them, after cursor ("" for the first page), and the cursor
// of the next page ("" on the last). It reads only the entries it returns
// (and those hidden since they were indexed). With full each release has
// its bodies; otherwise it is a summary.
func (s *Store) NewsPage(ctx context.Context, lang string, now time.Time, cursor string, limit int, full bool) ([]*NewsEntry, string, error) {
	if err := s.ensureNewsIndex(ctx); err != nil {
		return nil, "", err
	}
	maxScore := strconv.FormatInt(now.UnixMilli(), 10)
	var afterMS int64
	afterID := ""
	if cursor != "" {
		ms, rid, ok := strings.Cut(cursor, ".")
		n, err := strconv.ParseInt(ms, 10, 64)
		if !ok || err != nil || !validID("rel", rid) {
			return nil, "", fmt.Errorf("newsroom cursor %q: %w", cursor, ErrNewsCursor)
		}
		afterMS, afterID = n, rid
		if n < now.UnixMilli() {
			maxScore = ms
		}
	}
	var out []*NewsEntry
	offset := int64(0)
	for len(out) < limit {
		want := int64(limit - len(out) + 1)
		zs, err := s.rdb.ZRangeArgsWithScores(ctx, redis.ZRangeArgs{Key: newsKey(lang), Start: maxScore, Stop: "-inf",
			ByScore: true, Rev: true, Offset: offset, Count: want}).Result()
		if err != nil {
			return nil, "", fmt.Errorf("newsroom page of %s: %w", lang, err)
		}
		offset += int64(len(zs))
		var ids []string
		for _, z := range zs {
			id, _ := z.Member.(string)
			if afterID != "" && int64(z.Score) == afterMS && id >= afterID {
				continue // on an earlier page: ties are in reverse id order
			}
			ids = append(ids, id)
		}
		es, err := s.newsEntries(ctx, ids, full)
		if err != nil {
			return nil, "", err
		}
		for _, e := range es {
			if e.Release.PublicAt(now) && e.Paths[lang] != "" {
				out = append(out, e)
			}
		}
		if int64(len(zs)) < want {
			if len(out) > limit {
				out = out[:limit]
			}
			return out, "", nil
		}
	}
	if len(out) > limit {
		out = out[:limit]
	}
	last := out[len(out)-1]
	return out, strconv.FormatInt(last.PublishedAt.UnixMilli(), 10) + "." + last.Release.ID, nil
}

// NewsEntryByPath returns the entry of the release whose version in lang
// is at path ("yyyy/mm/slug"), public or not (see
// dispatcher.Release.PublicAt), or dispatcher.ErrNotFound.
func (s *Store) NewsEntryByPath(ctx context.Context, lang, path string) (*NewsEntry, error) {
	if err := s.ensureNewsIndex(ctx); err != nil {
		return nil, err
	}
	id, err := s.rdb.HGet(ctx, newsSlugsKey(lang), path).Result()
	if isNil(err) {
		return nil, fmt.Errorf("news %s/%s: %w", lang, path, dispatcher.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("news %s/%s: %w", lang, path, err)
	}
	return s.NewsEntry(ctx, id)
}

// NewsEntry returns release id's newsroom entry, public or not, or
// dispatcher.ErrNotFound when the release is not in the newsroom.
func (s *Store) NewsEntry(ctx context.Context, id string) (*NewsEntry, error) {
	if !validID("rel", id) {
		return nil, fmt.Errorf("news %q: %w", id, dispatcher.ErrNotFound)
	}
	if err := s.ensureNewsIndex(ctx); err != nil {
		return nil, err
	}
	es, err := s.newsEntries(ctx, []string{id}, true)
	if err != nil {
		return nil, err
	}
	if len(es) == 0 {
		return nil, fmt.Errorf("news %q: %w", id, dispatcher.ErrNotFound)
	}
	return es[0], nil
}

// newsEntries reads the releases ids and their entries, in order, leaving
// out those without an entry.
func (s *Store) newsEntries(ctx context.Context, ids []string, full bool) ([]*NewsEntry, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	rs, _, err := s.releases(ctx, ids, full)
	if err != nil {
		return nil, err
	}
	p := s.rdb.Pipeline()
	recs := make([]*redis.MapStringStringCmd, len(rs))
	for i, r := range rs {
		recs[i] = p.HGetAll(ctx, newsEntryKey(r.ID))
	}
	if _, err := p.Exec(ctx); err != nil && !isNil(err) {
		return nil, fmt.Errorf("newsroom entries: %w", err)
	}
	out := make([]*NewsEntry, 0, len(rs))
	for i, r := range rs {
		rec := recs[i].Val()
		if rec[newsAt] == "" {
			continue
		}
		e := &NewsEntry{Release: r, PublishedAt: parseTime(rec[newsAt]).UTC(), Paths: map[string]string{},
			Retracted: rec[newsRetracted] == "1"}
		if rec[newsUpdated] != "" {
			e.Updated = parseTime(rec[newsUpdated]).UTC()
		}
		for k, v := range rec {
			if lang, ok := strings.CutPrefix(k, newsPath); ok {
				e.Paths[lang] = v
			}
		}
		out = append(out, e)
	}
	return out, nil
}

// Slug returns the slug a title gives: its letters and digits in lower
// case, accents dropped, words joined by hyphens, at most 80 characters;
// "release" for a title without any.
func Slug(title string) string {
	var b strings.Builder
	hyphen := false
	for _, r := range norm.NFKD.String(title) {
		switch {
		case unicode.Is(unicode.Mn, r):
			continue
		case r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r)):
			if hyphen && b.Len() > 0 {
				b.WriteByte('-')
			}
			hyphen = false
			b.WriteRune(unicode.ToLower(r))
		case r == '\'' || r == '’':
			// "don't" → "dont"
		default:
			hyphen = true
		}
	}
	s := b.String()
	if len(s) > 80 {
		s = s[:80]
		if i := strings.LastIndexByte(s, '-'); i > 40 {
			s = s[:i]
		}
		s = strings.Trim(s, "-")
	}
	if s == "" {
		return "release"
	}
	return s
}
