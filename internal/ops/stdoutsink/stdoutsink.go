// Package stdoutsink is the replay sink: it writes each event as one NDJSON
// line in the record schema the S3 sink uses; with routes, each line also
// names the targets of the event's route in a "targets" field.
package stdoutsink

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"sync"

	"github.com/logfan/logfan/shared/record"
	"github.com/logfan/logfan/shared/routes"
	"github.com/logfan/logfan/shared/sink"
)

// Sink writes NDJSON records to a writer.
type Sink struct {
	mu  sync.Mutex
	w   *bufio.Writer
	buf []byte
	// table and targets cache the `,"targets":[...]}` tail of each route of
	// the last route table seen, so routed lines cost one append more.
	table   *routes.Table
	targets [][]byte
}

var _ sink.Sink = (*Sink)(nil)

// New returns a Sink writing to w.
func New(w io.Writer) *Sink { return &Sink{w: bufio.NewWriterSize(w, 256<<10)} }

// Name implements sink.Sink.
func (s *Sink) Name() string { return "stdout" }

// Deliver implements sink.Sink; a write error fails the batch from the first
// record not fully written.
func (s *Sink) Deliver(_ context.Context, b *sink.Batch) sink.Result {
	s.mu.Lock()
	defer s.mu.Unlock()
	res := sink.Result{FailedAt: -1}
	for i := range b.Records {
		m := b.Records[i].Message
		s.buf = s.buf[:0]
		var tail []byte
		if b.Routes != nil {
			tail = s.targetsTail(b.Routes, b.Records[i].Route)
		}
		for j := range m.LogEvents {
			if tail == nil {
				s.buf = record.AppendLine(s.buf, m, &m.LogEvents[j])
				continue
			}
			// Replace the record's closing brace: every record field stays as it is.
			s.buf = record.AppendJSON(s.buf, m, &m.LogEvents[j])
			s.buf = append(append(s.buf[:len(s.buf)-1], tail...), '\n')
		}
		if _, err := s.w.Write(s.buf); err != nil {
			res.FailedAt, res.Err = i, fmt.Errorf("write records: %w", err)
			return res
		}
		res.Delivered += len(m.LogEvents)
		res.Bytes += int64(len(s.buf))
	}
	if err := s.w.Flush(); err != nil {
		// Flushing only at the end means we cannot tell which record's bytes
		// were lost; retry the whole batch rather than guess.
		return sink.Result{FailedAt: 0, Err: fmt.Errorf("flush records: %w", err)}
	}
	return res
}

// targetsTail returns the `,"targets":[names]}` tail of the lines of route
// in table: the names of every target of the route, of every sink kind.
func (s *Sink) targetsTail(table *routes.Table, route int) []byte {
	if s.table != table {
		rs := table.Routes()
		s.table, s.targets = table, make([][]byte, len(rs))
		for r := range rs {
			t := []byte(`,"targets":[`)
			for k, tg := range rs[r].To {
				if k > 0 {
					t = append(t, ',')
				}
				t = record.AppendString(t, tg.Name())
			}
			s.targets[r] = append(t, "]}"...)
		}
	}
	if route < 0 || route >= len(s.targets) {
		return []byte(`,"targets":[]}`)
	}
	return s.targets[route]
}
