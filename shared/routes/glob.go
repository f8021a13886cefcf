package routes

import (
	"errors"
	"fmt"
)

// maxPattern bounds a pattern's length: CloudWatch Logs names are at most
// 512 characters, and the matcher's state lives on the stack.
const maxPattern = 512

// stateWords is the matcher's state size in 64-bit words (one bit per
// pattern position, plus the accepting position).
const stateWords = (maxPattern + 1 + 63) / 64

// glob is a compiled pattern: `*` matches any run of characters without a
// '/', `**` (a whole segment) any run including '/', and every other
// character itself. A
// `**` between slashes (or at the start, before one) may also match no
// segment at all, and a trailing "/**" matches the name without it, so
// "/aws/cloudtrail/**" matches "/aws/cloudtrail" and everything below it.
//
// Matching simulates the pattern's automaton with one bit per position
// (shift-and), so it takes time linear in the name whatever the pattern,
// and allocates nothing.
type glob struct {
	src   string
	n     int // positions: len(tokens); position n accepts
	words int
	// lit[c*words:(c+1)*words] has bit p set when token p is the literal c.
	lit []uint64
	// star: tokens that stay on any byte but '/'; dstar: on any byte.
	star, dstar [stateWords]uint64
	// skip: star tokens, which may match nothing.
	skip [stateWords]uint64
	// jump3: '/' tokens followed by "**/": after the slash, the automaton
	// may also skip "**/", so "/a/**/b" matches "/a/b".
	jump3 [stateWords]uint64
	// start is the state before the first byte.
	start [stateWords]uint64
	// accept: positions where the name may end.
	accept [stateWords]uint64
	// literal is set when the pattern has no wildcard (compared as a string).
	literal bool
}

func compileGlob(p string) (*glob, error) {
	if p == "" {
		return nil, errors.New("empty pattern")
	}
	if len(p) > maxPattern {
		return nil, fmt.Errorf("pattern of %d characters: at most %d", len(p), maxPattern)
	}
	g := &glob{src: p}
	type tok struct {
		c    byte
		kind int // 0 literal, 1 star, 2 dstar
	}
	var toks []tok
	for i := 0; i < len(p); i++ {
		switch {
		case p[i] == '*' && i+1 < len(p) && p[i+1] == '*':
			if i+2 < len(p) && p[i+2] == '*' {
				return nil, fmt.Errorf("%q: three or more '*' in a row", p)
			}
			// Elsewhere (shells, .gitignore) "a**" means "a*"; here it would
			// cross '/'. Refuse a pattern that reads two ways.
			if (i > 0 && p[i-1] != '/') || (i+2 < len(p) && p[i+2] != '/') {
				return nil, fmt.Errorf("'**' must be a whole '/'-separated segment (a leading \"**/\", \"/**/\" or a trailing \"/**\"), not glued to other characters: use '*' within a segment")
			}
			toks = append(toks, tok{kind: 2})
			i++
		case p[i] == '*':
			toks = append(toks, tok{kind: 1})
		default:
			toks = append(toks, tok{c: p[i]})
		}
	}
	g.n = len(toks)
	g.words = (g.n + 1 + 63) / 64
	g.literal = true
	g.lit = make([]uint64, 256*g.words)
	set := func(m *[stateWords]uint64, pos int) { m[pos/64] |= 1 << (pos % 64) }
	for pos, t := range toks {
		switch t.kind {
		case 0:
			g.lit[int(t.c)*g.words+pos/64] |= 1 << (pos % 64)
		case 1:
			g.literal = false
			set(&g.star, pos)
			set(&g.skip, pos)
		case 2:
			g.literal = false
			set(&g.dstar, pos)
			set(&g.skip, pos)
			if pos+1 < len(toks) && toks[pos+1].kind == 0 && toks[pos+1].c == '/' && pos > 0 && toks[pos-1].kind == 0 && toks[pos-1].c == '/' {
				set(&g.jump3, pos-1)
			}
		}
	}
	set(&g.accept, g.n)
	// A leading "**/" may match nothing.
	set(&g.start, 0)
	if g.n >= 2 && toks[0].kind == 2 && toks[1].kind == 0 && toks[1].c == '/' {
		set(&g.start, 2)
	}
	// A trailing "/**" also matches the name without it.
	if g.n >= 2 && toks[g.n-1].kind == 2 && toks[g.n-2].kind == 0 && toks[g.n-2].c == '/' {
		set(&g.accept, g.n-2)
	}
	return g, nil
}

// shiftOr sets dst |= (src & mask) << by, across words.
func shiftOr(dst, src, mask *[stateWords]uint64, words int, by uint) {
	var carry uint64
	for w := range words {
		v := src[w] & mask[w]
		dst[w] |= v<<by | carry
		carry = v >> (64 - by)
	}
}

// closure adds the positions reachable without consuming a byte.
func (g *glob) closure(s *[stateWords]uint64) {
	for {
		next := *s
		shiftOr(&next, s, &g.skip, g.words, 1)
		if next == *s {
			return
		}
		*s = next
	}
}

// match reports whether name matches the pattern.
func (g *glob) match(name string) bool {
	if g.literal {
		return name == g.src
	}
	cur := g.start
	g.closure(&cur)
	for i := 0; i < len(name); i++ {
		c := name[i]
		var next [stateWords]uint64
		var carry uint64
		lit := g.lit[int(c)*g.words : int(c)*g.words+g.words]
		for w := range g.words {
			v := cur[w] & lit[w]
			next[w] = v<<1 | carry
			carry = v >> 63
			next[w] |= cur[w] & g.dstar[w]
			if c != '/' {
				next[w] |= cur[w] & g.star[w]
			}
		}
		if c == '/' {
			var jumped [stateWords]uint64
			for w := range g.words {
				jumped[w] = cur[w] & lit[w]
			}
			shiftOr(&next, &jumped, &g.jump3, g.words, 3)
		}
		g.closure(&next)
		empty := true
		for w := range g.words {
			if next[w] != 0 {
				empty = false
				break
			}
		}
		if empty {
			return false
		}
		cur = next
	}
	for w := range g.words {
		if cur[w]&g.accept[w] != 0 {
			return true
		}
	}
	return false
}
