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
	Sink string
	// Events were delivered in Duration, from the consumers' start until
	// the sink's mapping drained the stream.
	Events   int
	Duration time.Duration
	// Busy is the time its handlers spent in Invocations, summed over the
	// shards: what one execution environment delivers per second of
	// invocation, on the emulator.
	Busy        time.Duration
	Invocations int
}

// BusyRate is the sink's events per second of invocation time.
func (r SinkRate) BusyRate() float64 {
	if r.Busy <= 0 {
		return 0
	}
	return float64(r.Events) / r.Busy.Seconds()
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

// peak returns the sample of highest RSS with progress in [from, to), or
// false when no sample falls there.
func (s *SoakReport) peak(from, to float64) (MemorySample, bool) {
	var best MemorySample
	found := false
	for _, m := range s.Samples {
		if m.Progress >= from && (m.Progress < to || to >= 1) && (!found || m.RSS > best.RSS) {
			best, found = m, true
		}
	}
	return best, found
}

// windows returns the highest-RSS samples of the second quarter of the run
// (25% to 50% of the events delivered) and of the last (75% to the end).
// Single samples cannot be compared: RSS saws up and down with every
// garbage collection and batch, by half in a steady run; the highest of
// some hundred samples is the working set's high-water mark, which a leak
// raises from one window to the next.
func (s *SoakReport) windows() (quarter, end MemorySample) {
	quarter, ok := s.peak(0.25, 0.5)
	if !ok {
		quarter = s.at(0.25)
	}
	end, ok = s.peak(0.75, 1)
	if !ok {
		end = s.Samples[len(s.Samples)-1]
	}
	return quarter, end
}

// Growth is the resident memory's growth from the second quarter of the
// run to its last quarter (see windows), as a share of the former
// (negative when memory fell).
func (s *SoakReport) Growth() float64 {
	if len(s.Samples) == 0 {
		return 0
	}
	q, end := s.windows()
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
		q, end := s.windows()
		return fmt.Errorf("resident memory grew %.1f%% from the run's second quarter (peak %s at %.0f%% delivered) to its last (peak %s at %.0f%%), over the %.0f%% allowed",
			100*g, mib(q.RSS), 100*q.Progress, mib(end.RSS), 100*end.Progress, 100*MaxSoakGrowth)
	}
	return nil
}

// Write prints the events per second of each sink and the memory curve:
// one row per tenth of the events delivered, and the growth checked.
func (s *SoakReport) Write(w io.Writer) {
	fmt.Fprintln(w, "\nsoak: events per second, over the run (the consumers keep up with the senders) and per second of invocation time")
	for _, r := range s.EventsPerSecond {
		fmt.Fprintf(w, "  %-9s %9d events in %7.1f s: %8.0f events/s; %4d invocations taking %7.1f s: %8.0f events/s of invocation\n",
			r.Sink, r.Events, r.Duration.Seconds(), r.Rate(), r.Invocations, r.Busy.Seconds(), r.BusyRate())
	}
	if len(s.Samples) == 0 {
		return
	}
	fmt.Fprintf(w, "soak: process memory over the run (%d samples; RSS = resident set, heap = Go heap live at the last GC)\n", len(s.Samples))
	fmt.Fprintf(w, "  %9s %10s %10s %10s\n", "delivered", "elapsed", "RSS", "heap")
	last := time.Duration(-1)
	row := func(m MemorySample) {
		if m.Elapsed == last {
			return // a short run reaches several steps in one sample
		}
		last = m.Elapsed
		fmt.Fprintf(w, "  %8.0f%% %9.1fs %10s %10s\n", 100*m.Progress, m.Elapsed.Seconds(), mib(m.RSS), mib(m.HeapLive))
	}
	row(s.Samples[0])
	for i := 1; i < 20; i++ {
		row(s.at(float64(i) / 20))
	}
	row(s.Samples[len(s.Samples)-1])
	q, end := s.windows()
	peak, _ := s.peak(0, 1)
	fmt.Fprintf(w, "soak: peak RSS %s in the second quarter (at %.0f%%), %s in the last (at %.0f%%): %+.1f%% (at most %+.0f%%); whole run's peak %s at %.0f%%\n",
		mib(q.RSS), 100*q.Progress, mib(end.RSS), 100*end.Progress, 100*s.Growth(), 100*MaxSoakGrowth, mib(peak.RSS), 100*peak.Progress)
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
