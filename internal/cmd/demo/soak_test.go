package demo

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/logfan/logfan/internal/devkit/emulator/emutest"
)

func TestSoakGrowth(t *testing.T) {
	const mb = 1 << 20
	curve := func(rss ...uint64) *SoakReport {
		s := &SoakReport{}
		for i, r := range rss {
			s.Samples = append(s.Samples, MemorySample{Elapsed: time.Duration(i) * time.Second, Progress: float64(i) / float64(len(rss)-1), RSS: r * mb})
		}
		return s
	}
	cases := []struct {
		name string
		s    *SoakReport
		want float64
		fail bool
	}{
		// GIVEN memory that rises to its working set early and then saws
		// up and down with each collection (progress 0, 1/8, 2/8, ... 1)
		{"flat after warm-up, sawing", curve(30, 400, 200, 300, 150, 240, 310, 160, 305), 310.0/300 - 1, false},
		// GIVEN memory that keeps rising with the events delivered
		{"leak", curve(30, 100, 150, 200, 250, 300, 350, 400, 450), 450.0/200 - 1, true},
		{"falls", curve(30, 300, 300, 300, 300, 250, 250, 250, 250), 250.0/300 - 1, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// THEN growth compares the highest RSS of the second quarter of
			// the events delivered with the highest of the last quarter,
			// and more than 10% fails the soak
			if got := c.s.Growth(); got < c.want-1e-9 || got > c.want+1e-9 {
				t.Errorf("growth %.4f, want %.4f", got, c.want)
			}
			if err := c.s.Problem(); (err != nil) != c.fail {
				t.Errorf("problem %v, want failure %v", err, c.fail)
			}
			var out bytes.Buffer
			c.s.Write(&out)
			if !strings.Contains(out.String(), "in the second quarter") || strings.Count(out.String(), " MiB ") < 5 {
				t.Errorf("report:\n%s", out.String())
			}
		})
	}
	// AND a soak that duplicated an event fails however flat its memory
	rep := &Report{Soak: curve(30, 300, 300, 300, 300), Sinks: []SinkReport{{Sink: "s3", Sent: 10, Landed: 10, Duplicates: 1}}}
	if err := rep.SoakProblem(); err == nil || !strings.Contains(err.Error(), "s3 delivered 1 duplicates") {
		t.Errorf("duplicates: %v", err)
	}
}

func TestDemoSoakSamplesTheConsumers(t *testing.T) {
	emutest.Require(t, srv)
	// GIVEN a demo run with the soak's sampling on (the in-memory sink, quick)
	o, out := testOptions(t, 2000)
	o.Targets = []Target{StdoutTarget()}
	o.Soak, o.SampleEvery = true, 5*time.Millisecond
	// WHEN it runs
	rep, err := o.Run(context.Background())
	if err != nil {
		t.Fatalf("demo: %v\n%s", err, out)
	}
	// THEN memory was sampled from the consumers' start (nothing delivered)
	// to their end (everything delivered), with the sink's throughput
	s := rep.Soak
	if s == nil || len(s.Samples) < 2 {
		t.Fatalf("soak report %+v", s)
	}
	first, last := s.Samples[0], s.Samples[len(s.Samples)-1]
	if first.Progress != 0 || last.Progress != 1 || first.RSS == 0 || last.HeapLive == 0 {
		t.Errorf("first sample %+v, last %+v", first, last)
	}
	if len(s.EventsPerSecond) != 1 || s.EventsPerSecond[0].Events != 2000 || s.EventsPerSecond[0].Rate() <= 0 ||
		s.EventsPerSecond[0].Invocations == 0 || s.EventsPerSecond[0].BusyRate() <= 0 {
		t.Errorf("rates %+v", s.EventsPerSecond)
	}
	if !strings.Contains(out.String(), "soak: events per second") {
		t.Errorf("output lacks the soak report:\n%s", out)
	}
}
