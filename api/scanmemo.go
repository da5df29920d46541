package api

import (
	"context"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/pregon/pregon/dispatcher"
	"golang.org/x/sync/singleflight"
)

// Recent audience scans. Reading a list costs a round trip per 1,000
// members and a Redis command per member, and every create or patch of a
// release answers with warnings made from such a reading; the compose form
// asks for counts each time a box is ticked. Under load (many drafts to the
// same 10,000-address list) that reading was most of the work of the API.
// So the lists' part of a scan is kept for scanMemoTTL under the store's
// AudienceStamp, which changes when the lists' members, the suppressions,
// the erasures or the contacts' details do: a hundred drafts to one list
// read it once. The checklist (GET /v1/releases/{id}/checks) and the send
// gate always read afresh.

// AudienceStamper is the part of the store that tells whether the lists
// may read differently since a stamp was taken (store.AudienceStamp). A
// store without it gets no memo: every scan reads the lists.
type AudienceStamper interface {
	AudienceStamp(ctx context.Context, lists []string) (string, error)
}

const (
	// scanMemoTTL bounds the age of a kept scan, and so of what a stamp
	// cannot see (a change that leaves every count as it was).
	scanMemoTTL = 15 * time.Second
	// scanMemoMax is how many audiences' scans are kept at most.
	scanMemoMax = 64
)

// scanMemo is the Server's store of recent list scans. Its zero value is
// ready; it is safe for concurrent use. A scan it holds is never changed.
type scanMemo struct {
	flight singleflight.Group // one reading of an audience at a time
	mu     sync.Mutex
	scans  map[string]memoScan // by audience key (memoKey)
}

type memoScan struct {
	stamp string
	at    time.Time
	scan  *audienceScan
}

// memoKey names the lists of aud, in the order they are read.
func memoKey(aud dispatcher.Audiences) string {
	return strings.Join(aud.EarlyLists, ",") + "|" + strings.Join(aud.Lists, ",")
}

// get returns the scan kept under key when it was made under stamp less
// than scanMemoTTL before now, and whether it is past half that age (time
// to read it again, in the background).
func (m *scanMemo) get(key, stamp string, now time.Time) (scan *audienceScan, aging, ok bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.scans[key]
	if !ok || e.stamp != stamp || now.Sub(e.at) >= scanMemoTTL || now.Before(e.at) {
		return nil, false, false
	}
	return e.scan, now.Sub(e.at) >= scanMemoTTL/2, true
}

// put keeps e under key, making room by dropping expired scans, then the
// oldest.
func (m *scanMemo) put(key string, e memoScan) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.scans == nil {
		m.scans = map[string]memoScan{}
	}
	if _, ok := m.scans[key]; !ok && len(m.scans) >= scanMemoMax {
		oldest := ""
		for k, old := range m.scans {
			if e.at.Sub(old.at) >= scanMemoTTL {
				delete(m.scans, k)
			} else if oldest == "" || old.at.Before(m.scans[oldest].at) {
				oldest = k
			}
		}
		if len(m.scans) >= scanMemoMax {
			delete(m.scans, oldest)
		}
	}
	m.scans[key] = e
}

// recentLists returns the lists' part of aud's scan (scanLists): one kept
// by s.scans when nothing has changed since it was made, else a new one,
// read once however many requests ask for it at the same time. A kept scan
// past half its age is read again in the background, so that the requests
// of a steady load never wait for a reading.
func (s *Server) recentLists(ctx context.Context, aud dispatcher.Audiences) (*audienceScan, error) {
	st, ok := s.store.(AudienceStamper)
	if !ok || len(aud.Lists)+len(aud.EarlyLists) == 0 {
		return s.scanLists(ctx, aud, false)
	}
	stamp, err := st.AudienceStamp(ctx, slices.Concat(aud.EarlyLists, aud.Lists))
	if err != nil {
		return nil, err
	}
	key := memoKey(aud)
	l, aging, ok := s.scans.get(key, stamp, s.now())
	if ok && !aging {
		return l, nil
	}
	// The reading is shared by the requests that wait for it: it must not
	// end with the first one's.
	shared := context.WithoutCancel(ctx)
	ch := s.scans.flight.DoChan(key+"\x00"+stamp, func() (any, error) {
		// A reading that ended between this request's look and its
		// DoChan has kept its scan already: no need for another.
		if l, aging, ok := s.scans.get(key, stamp, s.now()); ok && !aging {
			return l, nil
		}
		l, err := s.scanLists(shared, aud, false)
		if err != nil {
			return nil, err
		}
		s.scans.put(key, memoScan{stamp: stamp, at: s.now(), scan: l})
		return l, nil
	})
	if ok {
		// Past half its age: it is read again meanwhile, and the requests
		// do not wait for it (under load, a reading takes seconds).
		return l, nil
	}
	select {
	case res := <-ch:
		if res.Err != nil {
			return nil, res.Err
		}
		return res.Val.(*audienceScan), nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}
