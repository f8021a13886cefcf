package emulator

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// racyDynamo answers UpdateItem as moto does: it reads the item's counter,
// lets other requests run (until hold of them have read, or wait passes;
// or, with gate, until gate is closed), then stores what it read plus one.
// It counts the requests it served and the most that ever ran at once per
// item.
type racyDynamo struct {
	hold int
	wait time.Duration
	gate chan struct{}

	mu      sync.Mutex
	cond    *sync.Cond
	count   map[string]int
	reads   map[string]int
	running map[string]int
	most    map[string]int
	served  int
}

func newRacyDynamo(hold int, wait time.Duration) *racyDynamo {
	d := &racyDynamo{hold: hold, wait: wait, count: map[string]int{}, reads: map[string]int{}, running: map[string]int{}, most: map[string]int{}}
	d.cond = sync.NewCond(&d.mu)
	return d
}

func (d *racyDynamo) RoundTrip(req *http.Request) (*http.Response, error) {
	var in struct {
		Key map[string]map[string]string
	}
	if err := json.NewDecoder(req.Body).Decode(&in); err != nil {
		return nil, err
	}
	item := in.Key["pk"]["S"]
	d.mu.Lock()
	d.served++
	d.running[item]++
	d.most[item] = max(d.most[item], d.running[item])
	v := d.count[item] // read
	d.reads[item]++
	d.cond.Broadcast()
	if d.gate != nil {
		d.mu.Unlock()
		<-d.gate
		d.mu.Lock()
	}
	deadline := time.Now().Add(d.wait)
	for d.reads[item] < d.hold && time.Now().Before(deadline) {
		d.mu.Unlock()
		time.Sleep(time.Millisecond)
		d.mu.Lock()
	}
	d.count[item] = v + 1 // write what was read, plus one
	d.running[item]--
	d.mu.Unlock()
	return &http.Response{StatusCode: 200, Body: io.NopCloser(strings.NewReader("{}")), Header: http.Header{}, Request: req}, nil
}

// update sends one UpdateItem of item through rt.
func update(ctx context.Context, rt http.RoundTripper, table, item string) error {
	return send(ctx, rt, "UpdateItem", `{"TableName":"`+table+`","Key":{"pk":{"S":"`+item+`"}},"UpdateExpression":"ADD n :one"}`)
}

// send sends one DynamoDB call through rt.
func send(ctx context.Context, rt http.RoundTripper, op, body string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://127.0.0.1:1/", strings.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("X-Amz-Target", "DynamoDB_20120810."+op)
	resp, err := rt.RoundTrip(req)
	if err != nil {
		return err
	}
	return resp.Body.Close()
}

// concurrently runs n updates of item through rt at once.
func concurrently(t *testing.T, rt http.RoundTripper, table, item string, n int) {
	t.Helper()
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := update(context.Background(), rt, table, item); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
}

// TestItemLocksMakeUpdatesAtomic: concurrent writers of one item lose
// updates on an emulator that reads, then writes (moto), unless ItemLocks
// lets one at a time through; writes of other items are not held up.
func TestItemLocksMakeUpdatesAtomic(t *testing.T) {
	const n = 4
	// Without ItemLocks: every writer reads before any writes (the
	// emulator waits for all of them), so all but one update are lost.
	racy := newRacyDynamo(n, 10*time.Second)
	concurrently(t, racy, "t", "a", n)
	if racy.count["a"] != 1 || racy.most["a"] != n {
		t.Fatalf("without ItemLocks: counter %d with %d at once, want 1 with %d (the emulator must lose updates for this test to mean anything)", racy.count["a"], racy.most["a"], n)
	}

	// With ItemLocks: one at a time, every update counted. The emulator
	// holds each one 20 ms, time for any other to slip in.
	racy = newRacyDynamo(n, 20*time.Millisecond)
	rt := &ItemLocks{Base: racy}
	concurrently(t, rt, "t", "a", n)
	if racy.count["a"] != n || racy.most["a"] != 1 {
		t.Fatalf("with ItemLocks: counter %d with at most %d at once, want %d with 1", racy.count["a"], racy.most["a"], n)
	}

	// One key in two tables is two items, written at once: each waits
	// for the other to have read, which it could not if they were
	// serialized (it would give up after 10 s, alone).
	racy = newRacyDynamo(2, 10*time.Second)
	rt = &ItemLocks{Base: racy}
	var wg sync.WaitGroup
	for _, table := range []string{"t", "u"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := update(context.Background(), rt, table, "b"); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if racy.most["b"] != 2 {
		t.Fatalf("one key in two tables: %d at once, want 2", racy.most["b"])
	}
	if len(locks.m) != 0 {
		t.Errorf("%d locks left after every request ended", len(locks.m))
	}
}

// TestItemLocksGiveUpUnsent: a request whose context ends while another
// holds its item (or, for a PutItem, any item of its table) is not sent;
// no lock is leaked.
func TestItemLocksGiveUpUnsent(t *testing.T) {
	for _, second := range []struct{ op, body string }{
		{"UpdateItem", `{"TableName":"t","Key":{"pk":{"S":"c"}}}`},
		{"PutItem", `{"TableName":"t","Item":{"pk":{"S":"d"},"n":{"N":"1"}}}`},
	} {
		racy := newRacyDynamo(0, 0)
		racy.gate = make(chan struct{})
		rt := &ItemLocks{Base: racy}
		done := make(chan error)
		go func() { done <- update(context.Background(), rt, "t", "c") }()
		for { // the first holds item c until the gate opens
			racy.mu.Lock()
			started := racy.served == 1
			racy.mu.Unlock()
			if started {
				break
			}
			time.Sleep(time.Millisecond)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		err := send(ctx, rt, second.op, second.body)
		cancel()
		close(racy.gate)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("%s waiting past its deadline: %v, want context.DeadlineExceeded", second.op, err)
		}
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if racy.served != 1 || racy.count["c"] != 1 {
			t.Fatalf("%s: served %d, counter %d: want the timed-out request never sent", second.op, racy.served, racy.count["c"])
		}
		if len(locks.m) != 0 {
			t.Errorf("%s: %d locks left", second.op, len(locks.m))
		}
	}
}

// TestItemKey: the lock key is the endpoint, table and key (in any
// attribute order); a PutItem locks its table; other bodies none.
func TestItemKey(t *testing.T) {
	t1, i1, ok1 := itemKey("h:1", []byte(`{"TableName":"x","Key":{"pk":{"S":"a"},"sk":{"S":"b"}}}`))
	t2, i2, ok2 := itemKey("h:1", []byte(`{"Key":{"sk":{"S":"b"},"pk":{"S":"a"}},"TableName":"x","UpdateExpression":"ADD n :n"}`))
	if !ok1 || !ok2 || t1 != t2 || i1 != i2 || i1 == "" {
		t.Errorf("same item: %q %q, %q %q", t1, i1, t2, i2)
	}
	if t3, _, _ := itemKey("h:2", []byte(`{"TableName":"x","Key":{"pk":{"S":"a"}}}`)); t3 == t1 {
		t.Error("another endpoint shares the lock")
	}
	if tp, ip, ok := itemKey("h:1", []byte(`{"TableName":"x","Item":{"pk":{"S":"a"}}}`)); !ok || tp != t1 || ip != "" {
		t.Errorf("PutItem: %q %q %v, want the table's lock", tp, ip, ok)
	}
	if _, _, ok := itemKey("h:1", []byte(`not json`)); ok {
		t.Error("a body that is not JSON is locked")
	}
}
