package emulator

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"sync"

	"golang.org/x/sync/semaphore"
)

// ItemLocks is an http.RoundTripper that gives moto DynamoDB's per-item
// atomicity. DynamoDB applies each write to an item atomically, so several
// instances can ADD to one counter at once (sender health relies on it:
// every shard's instance adds its counts to the same log-group and sender
// items). moto_server serves each request in a thread of its own and
// applies UpdateItem as an unlocked read-modify-write (moto 5: read the
// item, store an empty one if there is none, evaluate the update against
// what it read, store the result), so two concurrent writes to one item
// lose one of them, more often the busier the machine.
//
// ItemLocks lets one single-item request (GetItem, UpdateItem, DeleteItem)
// per endpoint, table and key reach the emulator at a time, across every
// ItemLocks of the process; a PutItem, whose key only the table's schema
// tells, has its table to itself. Other requests pass straight through. A
// request whose context ends while it waits is not sent: its failure is
// certain, as a write that timed out on the way is not.
type ItemLocks struct {
	// Base sends the requests; http.DefaultTransport if nil.
	Base http.RoundTripper
}

// itemTargets are the X-Amz-Target values of DynamoDB's single-item calls.
var itemTargets = map[string]bool{
	"DynamoDB_20120810.GetItem":    true,
	"DynamoDB_20120810.PutItem":    true,
	"DynamoDB_20120810.UpdateItem": true,
	"DynamoDB_20120810.DeleteItem": true,
}

// RoundTrip implements http.RoundTripper.
func (t *ItemLocks) RoundTrip(req *http.Request) (*http.Response, error) {
	base := t.Base
	if base == nil {
		base = http.DefaultTransport
	}
	if !itemTargets[req.Header.Get("X-Amz-Target")] || req.Body == nil {
		return base.RoundTrip(req)
	}
	body, err := io.ReadAll(req.Body)
	_ = req.Body.Close()
	if err != nil {
		return nil, err
	}
	r := req.Clone(req.Context())
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	table, item, ok := itemKey(req.URL.Host, body)
	if !ok {
		return base.RoundTrip(r)
	}
	release, err := locks.acquire(req.Context(), table, item)
	if err != nil {
		return nil, err
	}
	// moto has applied the request once the response's headers arrive (it
	// builds the whole response first): the item is free again.
	defer release()
	return base.RoundTrip(r)
}

// itemKey names the table and the item a single-item request's JSON body
// addresses; item is "" for a PutItem, whose key attributes only the
// table's schema tells apart from the others.
func itemKey(host string, body []byte) (table, item string, ok bool) {
	var in struct {
		TableName string
		Key       map[string]any
	}
	if err := json.Unmarshal(body, &in); err != nil || in.TableName == "" {
		return "", "", false
	}
	table = host + "\x00" + in.TableName
	if in.Key == nil {
		return table, "", true
	}
	canon, err := json.Marshal(in.Key) // map keys sorted: one string per key
	if err != nil {
		return "", "", false
	}
	return table, string(canon), true
}

// tableWeight is a table semaphore's size: a keyed request takes 1 of it
// (and its item's lock), a PutItem all of it.
const tableWeight = 1 << 30

// locks are the process's table semaphores and item locks.
var locks = &lockTable{m: map[string]*lockEntry{}}

type lockTable struct {
	mu sync.Mutex
	m  map[string]*lockEntry // by table, and by table + "\x00" + item
}

type lockEntry struct {
	sem  *semaphore.Weighted
	refs int // holders and waiters: the entry is dropped at 0
}

// acquire waits until a request to table's item ("" for a PutItem) may
// reach the emulator, or ctx ends, and returns the release.
func (lt *lockTable) acquire(ctx context.Context, table, item string) (func(), error) {
	if item == "" {
		return lt.take(ctx, table, tableWeight, tableWeight)
	}
	releaseTable, err := lt.take(ctx, table, tableWeight, 1)
	if err != nil {
		return nil, err
	}
	releaseItem, err := lt.take(ctx, table+"\x00"+item, 1, 1)
	if err != nil {
		releaseTable()
		return nil, err
	}
	return func() { releaseItem(); releaseTable() }, nil
}

// take acquires n of key's semaphore (of the given size), or fails when
// ctx ends first.
func (lt *lockTable) take(ctx context.Context, key string, size, n int64) (func(), error) {
	lt.mu.Lock()
	e := lt.m[key]
	if e == nil {
		e = &lockEntry{sem: semaphore.NewWeighted(size)}
		lt.m[key] = e
	}
	e.refs++
	lt.mu.Unlock()
	drop := func() {
		lt.mu.Lock()
		defer lt.mu.Unlock()
		if e.refs--; e.refs == 0 {
			delete(lt.m, key)
		}
	}
	if err := e.sem.Acquire(ctx, n); err != nil {
		drop()
		return nil, err
	}
	return func() { e.sem.Release(n); drop() }, nil
}
