package demo

import (
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"time"
)

// A soak run (Options.Soak, `make soak`) samples the process's memory while
// the consumers drain the stream: the handlers run in this process, one per
// shard and sink as Lambda's execution environments would, so a leak in
// them (a buffer kept, a map that only grows) shows as memory rising with
// the events delivered.

// MaxSoakGrowth is how much resident memory may grow between a quarter of
// the events delivered and the end of the run before the soak fails.
const MaxSoakGrowth = 0.10

// MemorySample is the process's memory at one moment of the consumers' run.
type MemorySample struct {
	// Elapsed is the time since the consumers started.
	Elapsed time.Duration
	// Progress is the share of the events delivered, over all sinks (0 to 1).
	Progress float64
	// RSS is the resident set size in bytes (VmRSS); HeapLive the Go heap
	// the last garbage collection found live.
	RSS, HeapLive uint64
}

// SoakReport is what a soak run measured.
type SoakReport struct {
	// Samples are taken every SampleEvery while the consumers run, plus
	// one at their start and one at their end.
	Samples []MemorySample
	// EventsPerSecond is each sink's delivered events over the time its
	// mapping took to drain the stream, in the order the sinks ran.
	EventsPerSecond []SinkRate
}

// SinkRate is one sink's throughput in a soak run.
type SinkRate struct {
	Sink     string
	Events   int
	Duration time.Duration
}

// Rate is the sink's events per second.
func (r SinkRate) Rate() float64 {
	if r.Duration <= 0 {
		return 0
	}
	return float64(r.Events) / r.Duration.Seconds()
}

// at returns the first sample at or past progress p (the last if none).
func (s *SoakReport) at(p float64) MemorySample {
	for _, m := range s.Samples {
		if m.Progress >= p {
			return m
		}
	}
	return s.Samples[len(s.Samples)-1]
}

// Growth is the resident memory's growth from the first sample at a
// quarter of the events delivered to the last sample, as a share of the
// former (negative when memory fell).
func (s *SoakReport) Growth() float64 {
	if len(s.Samples) == 0 {
		return 0
	}
	q, end := s.at(0.25), s.Samples[len(s.Samples)-1]
	if q.RSS == 0 {
		return 0
	}
	return (float64(end.RSS) - float64(q.RSS)) / float64(q.RSS)
}

// SoakProblem returns an error when a soak run duplicated an event (a run
// without injected faults must deliver each event once) or its memory grew
// more than MaxSoakGrowth; loss is the demo's own check.
func (r *Report) SoakProblem() error {
	if r.Soak == nil {
		return nil
	}
	for _, s := range r.Sinks {
		if s.Duplicates > 0 {
			return fmt.Errorf("%s delivered %d duplicates", s.Sink, s.Duplicates)
		}
	}
	return r.Soak.Problem()
}

// Problem returns an error when memory grew more than MaxSoakGrowth.
func (s *SoakReport) Problem() error {
	if g := s.Growth(); g > MaxSoakGrowth {
		q, end := s.at(0.25), s.Samples[len(s.Samples)-1]
		return fmt.Errorf("resident memory grew %.1f%% from a quarter of the run (%s at %.0f%% delivered) to its end (%s), over the %.0f%% allowed",
			100*g, mib(q.RSS), 100*q.Progress, mib(end.RSS), 100*MaxSoakGrowth)
	}
	return nil
}

// Write prints the events per second of each sink and the memory curve:
// one row per tenth of the events delivered, and the growth checked.
func (s *SoakReport) Write(w io.Writer) {
	fmt.Fprintln(w, "\nsoak: events per second while draining the stream")
	for _, r := range s.EventsPerSecond {
		fmt.Fprintf(w, "  %-9s %9d events in %7.1f s: %8.0f events/s\n", r.Sink, r.Events, r.Duration.Seconds(), r.Rate())
	}
	if len(s.Samples) == 0 {
		return
	}
	fmt.Fprintf(w, "soak: process memory over the run (%d samples; RSS = resident set, heap = Go heap live at the last GC)\n", len(s.Samples))
	fmt.Fprintf(w, "  %9s %10s %10s %10s\n", "delivered", "elapsed", "RSS", "heap")
	row := func(m MemorySample) {
		fmt.Fprintf(w, "  %8.0f%% %9.1fs %10s %10s\n", 100*m.Progress, m.Elapsed.Seconds(), mib(m.RSS), mib(m.HeapLive))
	}
	row(s.Samples[0])
	for p := 0.1; p < 1.0; p += 0.1 {
		row(s.at(p))
	}
	row(s.Samples[len(s.Samples)-1])
	peak := s.Samples[0]
	for _, m := range s.Samples {
		if m.RSS > peak.RSS {
			peak = m
		}
	}
	fmt.Fprintf(w, "soak: RSS from a quarter of the run to its end: %+.1f%% (at most %+.0f%%); peak %s at %.0f%%\n",
		100*s.Growth(), 100*MaxSoakGrowth, mib(peak.RSS), 100*peak.Progress)
}

func mib(b uint64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

// memSampler samples memory every interval until stopped.
type memSampler struct {
	start    time.Time
	progress func() float64
	mu       sync.Mutex
	samples  []MemorySample
	done     chan struct{}
	wg       sync.WaitGroup
}

// startSampler returns memory back to the OS (what the senders left is
// not the consumers'), takes the first sample and samples every interval.
func startSampler(interval time.Duration, progress func() float64) *memSampler {
	debug.FreeOSMemory()
	s := &memSampler{start: time.Now(), progress: progress, done: make(chan struct{})}
	s.sample()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-s.done:
				return
			case <-t.C:
				s.sample()
			}
		}
	}()
	return s
}

// stop ends the sampling with a last sample and returns them all.
func (s *memSampler) stop() []MemorySample {
	close(s.done)
	s.wg.Wait()
	s.sample()
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.samples
}

func (s *memSampler) sample() {
	m := MemorySample{Elapsed: time.Since(s.start), Progress: s.progress(), RSS: residentBytes(), HeapLive: heapLiveBytes()}
	s.mu.Lock()
	s.samples = append(s.samples, m)
	s.mu.Unlock()
}

// residentBytes is the process's resident set size (Linux's VmRSS), or,
// where /proc is absent, the memory the Go runtime holds from the OS.
func residentBytes() uint64 {
	if raw, err := os.ReadFile("/proc/self/status"); err == nil {
		for _, line := range strings.Split(string(raw), "\n") {
			if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
				kb, err := strconv.ParseUint(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
				if err == nil {
					return kb << 10
				}
			}
		}
	}
	s := []metrics.Sample{{Name: "/memory/classes/total:bytes"}, {Name: "/memory/classes/heap/released:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64() - s[1].Value.Uint64()
}

// heapLiveBytes is the Go heap the last garbage collection marked live.
func heapLiveBytes() uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return s[0].Value.Uint64()
}
