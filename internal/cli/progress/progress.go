// Package progress shows a long operator command's progress on stderr: a
// bar with rate and ETA redrawn in place when stderr is a terminal, and a
// plain line every few seconds otherwise (a log file, CI), so that data on
// stdout stays clean either way.
package progress

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mattn/go-isatty"
)

// Options configure a Reporter.
type Options struct {
	// Label starts every line ("resend").
	Label string
	// Unit names the items counted (objects, log groups).
	Unit string
	// Total is the work to do, in the unit Work is counted in (0: unknown, no ETA).
	Total int64
	// Items is the number of items to do (0: unknown).
	Items int64
	// Terminal forces the bar (true) or plain lines (false); nil asks whether w is a terminal.
	Terminal *bool
	// Every is how often a plain line is written (default 5 s; the bar redraws every 200 ms).
	Every time.Duration
	// Now is the clock (time.Now if nil).
	Now func() time.Time
}

// Reporter counts work done and shows it. Its counters are safe for concurrent use.
type Reporter struct {
	w        io.Writer
	o        Options
	terminal bool
	start    time.Time

	work, items, events, bytes atomic.Int64

	stop chan struct{}
	wg   sync.WaitGroup
	mu   sync.Mutex // serialises writes
}

// IsTerminal reports whether w is a terminal.
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && (isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd()))
}

// Start begins showing progress on w until Stop.
func Start(w io.Writer, o Options) *Reporter {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Every <= 0 {
		o.Every = 5 * time.Second
	}
	r := &Reporter{w: w, o: o, start: o.Now(), stop: make(chan struct{})}
	if o.Terminal != nil {
		r.terminal = *o.Terminal
	} else {
		r.terminal = IsTerminal(w)
	}
	every := o.Every
	if r.terminal {
		every = 200 * time.Millisecond
	}
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-r.stop:
				return
			case <-t.C:
				r.show(false)
			}
		}
	}()
	return r
}

// Add counts work done (in Options.Total's unit), items finished, events and bytes sent.
func (r *Reporter) Add(work, items, events, bytes int64) {
	r.work.Add(work)
	r.items.Add(items)
	r.events.Add(events)
	r.bytes.Add(bytes)
}

// Stop ends the display with a last line.
func (r *Reporter) Stop() {
	close(r.stop)
	r.wg.Wait()
	r.show(true)
}

// Line is the progress as one line of text, without the label.
func (r *Reporter) Line() string {
	elapsed := r.o.Now().Sub(r.start)
	secs := max(elapsed.Seconds(), 1e-3)
	work, items, events, bytes := r.work.Load(), r.items.Load(), r.events.Load(), r.bytes.Load()
	var parts []string
	if r.o.Total > 0 {
		parts = append(parts, fmt.Sprintf("%.0f%%", 100*float64(min(work, r.o.Total))/float64(r.o.Total)))
	}
	if r.o.Items > 0 {
		parts = append(parts, fmt.Sprintf("%d/%d %s", items, r.o.Items, r.o.Unit))
	} else if r.o.Unit != "" {
		parts = append(parts, fmt.Sprintf("%d %s", items, r.o.Unit))
	}
	parts = append(parts, fmt.Sprintf("%d events", events),
		fmt.Sprintf("%s events/s", human(float64(events)/secs)),
		fmt.Sprintf("%.1f MB/s", float64(bytes)/1e6/secs))
	if r.o.Total > 0 && work > 0 && work < r.o.Total {
		eta := time.Duration(float64(elapsed) * float64(r.o.Total-work) / float64(work))
		parts = append(parts, "ETA "+eta.Round(time.Second).String())
	} else {
		parts = append(parts, "elapsed "+elapsed.Round(time.Second).String())
	}
	return strings.Join(parts, ", ")
}

func (r *Reporter) show(last bool) {
	line := r.Line()
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.terminal {
		fmt.Fprintf(r.w, "%s: %s\n", r.o.Label, line)
		return
	}
	bar := ""
	if r.o.Total > 0 {
		const width = 24
		n := int(float64(width) * float64(min(r.work.Load(), r.o.Total)) / float64(r.o.Total))
		bar = "[" + strings.Repeat("#", n) + strings.Repeat("-", width-n) + "] "
	}
	end := ""
	if last {
		end = "\n"
	}
	// \r returns to the line's start, \x1b[K clears what a longer line left.
	fmt.Fprintf(r.w, "\r%s %s%s\x1b[K%s", r.o.Label, bar, line, end)
}

// human writes a rate with a k or M suffix.
func human(v float64) string {
	switch {
	case v >= 1e6:
		return fmt.Sprintf("%.1fM", v/1e6)
	case v >= 1e3:
		return fmt.Sprintf("%.1fk", v/1e3)
	}
	return fmt.Sprintf("%.0f", v)
}
