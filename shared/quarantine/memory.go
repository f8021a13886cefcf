package quarantine

import (
	"context"
	"sync"
)

// Memory keeps entries in memory: replay prints them, tests count them.
type Memory struct {
	mu      sync.Mutex
	entries []Entry
	seen    map[string]bool
	// Err, when set, is returned by Put (to test a failing quarantine).
	Err error
}

var _ Quarantine = (*Memory)(nil)

// Put implements Quarantine; the same entry put twice is kept once.
func (m *Memory) Put(_ context.Context, e Entry) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.Err != nil {
		return m.Err
	}
	key := e.Identity()
	if m.seen == nil {
		m.seen = map[string]bool{}
	}
	if !m.seen[key] {
		m.seen[key] = true
		e.Data = append([]byte(nil), e.Data...)
		m.entries = append(m.entries, e)
	}
	return nil
}

// Entries returns a copy of the entries kept so far, in the order they were put.
func (m *Memory) Entries() []Entry {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]Entry(nil), m.entries...)
}
