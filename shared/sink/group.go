package sink

import (
	"fmt"
	"runtime/debug"
	"sync"
)

// Group runs a Deliver call's goroutines and hands a panic in any of them to
// the goroutine that calls Wait. A panic in a goroutine of its own would
// crash the process before the consumer's guard could turn it into a retry.
type Group struct {
	wg    sync.WaitGroup
	once  sync.Once
	panic *Panic
}

// Panic is what Wait panics with: the first goroutine's panic value and the
// stack where it happened (the stack of Wait's own panic would not show it).
type Panic struct {
	Value any
	Stack []byte
}

func (p *Panic) Error() string { return fmt.Sprintf("%v", p.Value) }

// Go runs f in a new goroutine.
func (g *Group) Go(f func()) {
	g.wg.Add(1)
	go func() {
		defer g.wg.Done()
		defer func() {
			if p := recover(); p != nil {
				g.once.Do(func() { g.panic = &Panic{Value: p, Stack: debug.Stack()} })
			}
		}()
		f()
	}()
}

// Wait waits for every goroutine, then panics with a *Panic if one of them panicked.
func (g *Group) Wait() {
	g.wg.Wait()
	if g.panic != nil {
		panic(g.panic)
	}
}
