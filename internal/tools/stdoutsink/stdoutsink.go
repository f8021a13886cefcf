// Package stdoutsink is the replay sink: it writes each event as one NDJSON
// line in the record schema the S3 sink uses.
package stdoutsink

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"sync"

	"github.com/logfan/logfan/shared/record"
	"github.com/logfan/logfan/shared/sink"
)

// Sink writes NDJSON records to a writer.
type Sink struct {
	mu  sync.Mutex
	w   *bufio.Writer
	buf []byte
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
		for j := range m.LogEvents {
			s.buf = record.AppendLine(s.buf, m, &m.LogEvents[j])
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
