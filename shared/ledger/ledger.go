// Package ledger remembers, per function, shard and retry point, which
// events of the records Lambda will re-deliver already landed in the sink,
// so that the retry delivers only the rest. The consumer owns it: it reads
// the entry of a batch's first record, leaves out what it lists, writes a
// new entry when the batch ends with a retry point, and deletes the entry it
// used once the batch is done. An entry only ever lists what really landed,
// so a stale or missing entry costs duplicates, never events.
package ledger

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/klauspost/compress/gzip"
)

// Record is one Kinesis record of an entry and what of it landed.
type Record struct {
	// SequenceNumber identifies the record in its shard.
	SequenceNumber string
	// Units are the sink's keys of what landed (sink.Unit.Key).
	Units []string
}

// Entry lists, in stream order, the records from a retry point on that
// landed in part or in full.
type Entry []Record

// Store keeps entries under a key (see Key).
type Store interface {
	// Get returns the entry under key, or nil if there is none.
	Get(ctx context.Context, key string) (Entry, error)
	// Put stores e under key, replacing any entry there.
	Put(ctx context.Context, key string, e Entry) error
	// Delete removes the entry under key, if any.
	Delete(ctx context.Context, key string) error
}

// Key is the key of the entry for a batch of function fn that Lambda
// re-delivers from sequence number seq of shard. Lambda retries a stream
// batch from the record batchItemFailures names, so the retried batch's
// first record finds it; concurrent batches of one shard
// (ParallelizationFactor) start at different records and keep apart.
func Key(fn, shard, seq string) string { return fn + "#" + shard + "#" + seq }

// Marshal encodes e compactly: gzip of one line per record, the sequence
// number and its units separated by spaces (sequence numbers of one shard
// share most of their digits, which gzip folds away).
func Marshal(e Entry) ([]byte, error) {
	var text strings.Builder
	for _, r := range e {
		if r.SequenceNumber == "" || strings.ContainsAny(r.SequenceNumber, " \n") {
			return nil, fmt.Errorf("ledger: bad sequence number %q", r.SequenceNumber)
		}
		text.WriteString(r.SequenceNumber)
		for _, u := range r.Units {
			if u == "" || strings.ContainsAny(u, " \n") {
				return nil, fmt.Errorf("ledger: bad unit key %q", u)
			}
			text.WriteByte(' ')
			text.WriteString(u)
		}
		text.WriteByte('\n')
	}
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed) // a valid level: no error
	if _, err := io.WriteString(zw, text.String()); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Unmarshal decodes what Marshal wrote, reading at most maxBytes of text.
func Unmarshal(b []byte, maxBytes int64) (Entry, error) {
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("ledger: %w", err)
	}
	text, err := io.ReadAll(io.LimitReader(zr, maxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("ledger: %w", err)
	}
	if int64(len(text)) > maxBytes {
		return nil, fmt.Errorf("ledger: entry larger than %d bytes", maxBytes)
	}
	var e Entry
	for line := range strings.SplitSeq(strings.TrimSuffix(string(text), "\n"), "\n") {
		if line == "" {
			continue
		}
		f := strings.Split(line, " ")
		e = append(e, Record{SequenceNumber: f[0], Units: f[1:]})
	}
	return e, nil
}

// Fit returns the longest prefix of e whose Marshal is at most maxBytes,
// and its encoding. A prefix, not any subset: an entry that lists an event
// of an S3 object then also lists the object's first event, so a retry that
// skips the one cannot write an object named for the other (see
// s3layout.ObjectName).
func Fit(e Entry, maxBytes int) (Entry, []byte, error) {
	b, err := Marshal(e)
	if err != nil || len(b) <= maxBytes {
		return e, b, err
	}
	lo, hi := 0, len(e) // Marshal(e[:lo]) fits, Marshal(e[:hi]) does not
	var best []byte
	for hi-lo > 1 {
		mid := (lo + hi) / 2
		mb, err := Marshal(e[:mid])
		if err != nil {
			return nil, nil, err
		}
		if len(mb) <= maxBytes {
			lo, best = mid, mb
		} else {
			hi = mid
		}
	}
	if lo == 0 {
		return nil, nil, nil
	}
	return e[:lo], best, nil
}

// ErrUnavailable is what Memory returns while it is made unavailable.
var ErrUnavailable = errors.New("ledger unavailable")

// Memory is a Store in memory, for tests and local tools.
type Memory struct {
	mu      sync.Mutex
	entries map[string]Entry
	// Unavailable, while true, fails every call with ErrUnavailable.
	Unavailable bool
	// Gets, Puts and Deletes count the calls.
	Gets, Puts, Deletes int
}

var _ Store = (*Memory)(nil)

// Get implements Store.
func (m *Memory) Get(_ context.Context, key string) (Entry, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.Gets++
	if m.Unavailable {
		return nil, ErrUnavailable
	}
	return m.entries[key], nil
}

// Put implements Store.
func (m *Memory) Put(_ context.Context, key string, e Entry) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.Puts++
	if m.Unavailable {
		return ErrUnavailable
	}
	if m.entries == nil {
		m.entries = map[string]Entry{}
	}
	m.entries[key] = e
	return nil
}

// Delete implements Store.
func (m *Memory) Delete(_ context.Context, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.Deletes++
	if m.Unavailable {
		return ErrUnavailable
	}
	delete(m.entries, key)
	return nil
}

// Len returns the number of entries held.
func (m *Memory) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.entries)
}
