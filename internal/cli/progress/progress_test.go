package progress

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"time"
)

// clock is a settable time source.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func TestPlainLinesWhenNotATerminal(t *testing.T) {
	c := &clock{t: time.Unix(0, 0)}
	var buf bytes.Buffer
	r := Start(&buf, Options{Label: "resend", Unit: "objects", Total: 1000, Items: 4, Every: time.Hour, Now: c.now})
	c.add(10 * time.Second)
	r.Add(250, 1, 5000, 2_000_000)
	if got, want := r.Line(), "25%, 1/4 objects, 5000 events, 500 events/s, 0.2 MB/s, ETA 30s"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	r.Stop()
	out := buf.String()
	if strings.ContainsAny(out, "\r\x1b") || !strings.HasPrefix(out, "resend: 25%") || !strings.HasSuffix(out, "\n") {
		t.Errorf("plain output %q: want lines without terminal codes", out)
	}
}

func TestBarOnATerminal(t *testing.T) {
	c := &clock{t: time.Unix(0, 0)}
	var buf bytes.Buffer
	yes := true
	r := Start(&buf, Options{Label: "resend", Total: 100, Terminal: &yes, Now: c.now})
	c.add(time.Second)
	r.Add(50, 0, 10, 0)
	r.Stop()
	out := buf.String()
	if !strings.Contains(out, "\rresend [############------------] ") || !strings.HasSuffix(out, "\x1b[K\n") {
		t.Errorf("bar output %q", out)
	}
}

func TestIsTerminal(t *testing.T) {
	if IsTerminal(&bytes.Buffer{}) {
		t.Error("a buffer is not a terminal")
	}
}
