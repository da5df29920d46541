package main

import (
	"bytes"
	"context"
	"fmt"
	"net/smtp"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pregon/pregon/channels/email"
	"github.com/pregon/pregon/dispatcher"
	"github.com/pregon/pregon/templates"
)

// yardstickPool is how many distinct pre-rendered messages the yardstick
// cycles through: enough to be realistic, few enough to keep in memory at
// any N. Each message still goes to its own envelope recipient.
const yardstickPool = 1000

// runYardstick sends n messages, rendered before the clock starts with the
// same renderer and email channel code as pregon (the demo release, half in
// Spanish, half in English, each with its own unsubscribe link), with a plain
// net/smtp client over conns connections to a fresh sink: what an SMTP
// client that does nothing else reaches on this machine.
func (b *bench) runYardstick(ctx context.Context, n, conns int) (*result, error) {
	res := &result{run: fmt.Sprintf("yardstick: net/smtp, %d conns", conns), n: n}
	msgs, err := yardstickMessages(min(n, yardstickPool))
	if err != nil {
		return nil, err
	}
	sk, err := b.startSink(ctx, "yardstick")
	if err != nil {
		return nil, err
	}
	defer b.procs.stop(sk.proc, 5*time.Second)

	pids := []int{sk.pid(), b.redis.pid(), os.Getpid()}
	cpu0 := readCPU(pids...)
	res.t0 = time.Now()
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, conns)
	for range conns {
		wg.Go(func() {
			if err := yardstickConn(ctx, sk.addr, msgs, &next, int64(n)); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	res.doneAfter = time.Since(res.t0)
	cpu1 := readCPU(pids...)
	close(errs)
	if err := <-errs; err != nil {
		res.failure = err.Error()
	}
	res.pregonCPU = []time.Duration{cpu1.since(cpu0, os.Getpid())}
	res.importRSS, res.sendRSS = []int64{-1}, []int64{-1}
	res.sinkCPU = cpu1.since(cpu0, sk.pid())
	if res.sink, err = sk.stats(ctx); err != nil {
		return nil, err
	}
	res.status, res.counts = "sent", map[string]int64{"sent": res.sink.Messages}
	res.yardstick = true
	return res, nil
}

// yardstickConn sends messages numbered from next until n are taken, on one
// connection.
func yardstickConn(ctx context.Context, addr string, msgs []yardMsg, next *atomic.Int64, n int64) error {
	c, err := smtp.Dial(addr)
	if err != nil {
		return fmt.Errorf("yardstick: %w", err)
	}
	defer c.Close()
	if err := c.Hello("bench.localhost"); err != nil {
		return fmt.Errorf("yardstick: %w", err)
	}
	for ctx.Err() == nil {
		i := next.Add(1) - 1
		if i >= n {
			return c.Quit()
		}
		m := msgs[i%int64(len(msgs))]
		if err := c.Mail(m.from); err != nil {
			return fmt.Errorf("yardstick: %w", err)
		}
		if err := c.Rcpt(fmt.Sprintf("bench%06d@example.org", i)); err != nil {
			return fmt.Errorf("yardstick: %w", err)
		}
		w, err := c.Data()
		if err != nil {
			return fmt.Errorf("yardstick: %w", err)
		}
		if _, err := w.Write(m.data); err != nil {
			return fmt.Errorf("yardstick: %w", err)
		}
		if err := w.Close(); err != nil {
			return fmt.Errorf("yardstick: %w", err)
		}
	}
	return ctx.Err()
}

// yardMsg is one rendered message and its envelope sender.
type yardMsg struct {
	from string
	data []byte
}

// yardstickMessages renders k messages of the demo release as pregon would
// (the renderer, then the email channel's Composer, unsigned).
func yardstickMessages(k int) ([]yardMsg, error) {
	in, err := emailRelease("")
	if err != nil {
		return nil, err
	}
	rel := &dispatcher.Release{ID: "yardstick", Title: in.Title, Summary: in.Summary, Body: in.Body,
		Language: in.Language, Translations: in.Translations, SourceURL: in.SourceURL}
	if in.Contact != nil {
		rel.Contact = in.Contact
	}
	r, err := templates.New()
	if err != nil {
		return nil, err
	}
	from := dispatcher.Address{Name: "Pregón Bench", Email: "bench@pregon.example.org"}
	comp, err := email.NewComposer(email.ComposeConfig{From: from})
	if err != nil {
		return nil, err
	}
	date := time.Now()
	contents := map[string]*dispatcher.EmailContent{}
	for _, lang := range []string{"es", "en"} {
		if contents[lang], err = r.Email(rel, lang); err != nil {
			return nil, err
		}
	}
	out := make([]yardMsg, k)
	for i := range out {
		content := contents["es"]
		if i%2 == 1 {
			content = contents["en"]
		}
		u := fmt.Sprintf("https://pregon.example.org/u/%06d.yardstick.0123456789abcdef0123456789abcdef", i)
		m := &dispatcher.EmailMessage{
			DeliveryID: fmt.Sprintf("d%06d", i),
			To:         dispatcher.Address{Name: fmt.Sprintf("Periodista %d", i), Email: fmt.Sprintf("bench%06d@example.org", i)},
			MessageID:  fmt.Sprintf("d%06d.yardstick@pregon.example.org", i),
			Content:    content, UnsubscribeURL: u,
			Headers: map[string]string{"List-Unsubscribe": "<" + u + ">", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"},
		}
		if rel.Contact != nil {
			m.ReplyTo = &dispatcher.Address{Name: rel.Contact.Name, Email: rel.Contact.Email}
		}
		var buf bytes.Buffer
		if _, err := comp.Compose(m, date, &buf); err != nil {
			return nil, err
		}
		out[i] = yardMsg{from: from.Email, data: buf.Bytes()}
	}
	return out, nil
}
