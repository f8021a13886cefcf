package health

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"
)

// flakyTable is a Writer whose writes fail at random: refused (nothing
// applied), timed out before reaching the table (the flush's deadline;
// nothing applied), or, with ambiguous, applied and then failed (a
// response lost on the way back). It keeps what it applied per key.
type flakyTable struct {
	mu        sync.Mutex
	rng       *rand.Rand
	failRate  float64
	ambiguous bool

	events, bytes map[string]int64
	beats         map[string]int64
	last          map[string]int64
	// extraEvents and extraBeats are what ambiguous failures applied: the
	// recorder writes them again, so the table holds them twice.
	extraEvents, extraBeats map[string]int64
}

func newFlakyTable(seed uint64, failRate float64, ambiguous bool) *flakyTable {
	return &flakyTable{
		rng: rand.New(rand.NewPCG(seed, 7)), failRate: failRate, ambiguous: ambiguous,
		events: map[string]int64{}, bytes: map[string]int64{}, beats: map[string]int64{}, last: map[string]int64{},
		extraEvents: map[string]int64{}, extraBeats: map[string]int64{},
	}
}

var errRefused = errors.New("refused")

// fate decides a write's outcome: apply it, and the error to return.
func (w *flakyTable) fate(ctx context.Context) (apply bool, err error) {
	w.mu.Lock()
	p := w.rng.Float64()
	w.mu.Unlock()
	switch {
	case p >= w.failRate:
		return true, nil
	case p < w.failRate/3:
		return false, errRefused
	case p < 2*w.failRate/3:
		<-ctx.Done() // hangs until the flush's deadline
		return false, ctx.Err()
	default:
		return w.ambiguous, errRefused
	}
}

func (w *flakyTable) WriteSender(ctx context.Context, u SenderUpdate) error {
	apply, err := w.fate(ctx)
	w.mu.Lock()
	defer w.mu.Unlock()
	if apply {
		k := SenderSK(u.Account, u.Region)
		w.beats[k] += u.Heartbeats
		w.last[k] = max(w.last[k], u.LastHeartbeat)
		if err != nil {
			w.extraBeats[k] += u.Heartbeats
		}
	}
	return err
}

func (w *flakyTable) WriteLogGroup(ctx context.Context, u LogGroupUpdate) error {
	apply, err := w.fate(ctx)
	w.mu.Lock()
	defer w.mu.Unlock()
	if apply {
		k := u.Day + "#" + LogGroupSK(u.Account, u.Region, u.LogGroup)
		w.events[k] += u.Events
		w.bytes[k] += u.Bytes
		if err != nil {
			w.extraEvents[k] += u.Events
		}
	}
	return err
}

// TestNoCountLost: whatever the table does (refused writes, writes that
// time out against the flush's deadline, backoff, at most 3 writes a
// flush, days that end between flushes), every heartbeat and event told
// to the recorder is in the table once Close has succeeded: once, or, for
// a write applied but answered with an error, once more (the recorder
// cannot tell it landed; DynamoDB's UpdateItem has no idempotency token).
// Never less.
func TestNoCountLost(t *testing.T) {
	for _, ambiguous := range []bool{false, true} {
		for seed := range uint64(8) {
			t.Run(fmt.Sprintf("ambiguous=%v/seed=%d", ambiguous, seed), func(t *testing.T) {
				noCountLost(t, seed, ambiguous)
			})
		}
	}
}

func noCountLost(t *testing.T, seed uint64, ambiguous bool) {
	rng := rand.New(rand.NewPCG(seed, 1))
	table := newFlakyTable(seed, 0.3, ambiguous)
	r := NewRecorder(RecorderOptions{
		HeartbeatLogGroups: []string{"/hb"}, Writer: table,
		MaxWritesPerFlush: 3, Writers: 2, Backoff: 5 * time.Minute,
	})
	wantEvents, wantBytes, wantBeats, wantLast := map[string]int64{}, map[string]int64{}, map[string]int64{}, map[string]int64{}
	now := time.Date(2026, 3, 1, 22, 0, 0, 0, time.UTC) // the run crosses midnight
	accounts := []string{"111111111111", "222222222222", "333333333333"}
	for step := range 400 {
		now = now.Add(time.Duration(rng.IntN(10*60)) * time.Second)
		for range rng.IntN(4) {
			acct := accounts[rng.IntN(len(accounts))]
			ts := now.Add(-time.Duration(rng.IntN(120)) * time.Second).UnixMilli()
			if rng.IntN(4) == 0 {
				m := msg(acct, "/hb", ts)
				r.Heartbeat(m, now)
				k := SenderSK(acct, "")
				wantBeats[k]++
				wantLast[k] = max(wantLast[k], ts)
				continue
			}
			group := fmt.Sprintf("/g%d", rng.IntN(4))
			n := 1 + rng.IntN(5)
			tss := make([]int64, n)
			for i := range tss {
				tss[i] = ts
			}
			r.Traffic(msg(acct, group, tss...), n, int64(10*n), ts, now)
			k := Day(now) + "#" + LogGroupSK(acct, "", group)
			wantEvents[k] += int64(n)
			wantBytes[k] += int64(10 * n)
		}
		// An invocation's flush, with a deadline the hanging writes hit.
		ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
		_, _ = r.Flush(ctx, now)
		cancel()
		if step%97 == 0 {
			// A shutdown in the middle (Close may fail too; the counts stay).
			ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
			_, _ = r.Close(ctx, now)
			cancel()
		}
	}
	// The instance ends: Close until it succeeds (each attempt may fail).
	var err error
	for range 200 {
		ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
		_, err = r.Close(ctx, now)
		cancel()
		if err == nil {
			break
		}
	}
	if err != nil {
		t.Fatalf("Close never succeeded: %v", err)
	}
	table.mu.Lock()
	defer table.mu.Unlock()
	for k, want := range wantEvents {
		if got := table.events[k] - table.extraEvents[k]; got != want || table.bytes[k] < wantBytes[k] {
			t.Errorf("%s: %d events (%d of them written twice), %d bytes: want %d events, %d bytes", k, table.events[k], table.extraEvents[k], table.bytes[k], want, wantBytes[k])
		}
	}
	for k, want := range wantBeats {
		if got := table.beats[k] - table.extraBeats[k]; got != want || table.last[k] != wantLast[k] {
			t.Errorf("%s: %d heartbeats (%d written twice), last %d: want %d, last %d", k, table.beats[k], table.extraBeats[k], table.last[k], want, wantLast[k])
		}
	}
	if len(table.events) != len(wantEvents) || len(table.beats) != len(wantBeats) {
		t.Errorf("table has %d log-group and %d sender keys, want %d and %d", len(table.events), len(table.beats), len(wantEvents), len(wantBeats))
	}
	if !ambiguous && (len(table.extraEvents) > 0 || len(table.extraBeats) > 0) {
		t.Error("a write that failed was applied")
	}
}
