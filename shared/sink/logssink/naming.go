package logssink

import (
	"hash/fnv"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/logfan/logfan/shared/config"
)

// MaxNameLength is the longest log group or log stream name CloudWatch Logs
// accepts (CreateLogGroup, CreateLogStream: "between 1 and 512 characters").
const MaxNameLength = 512

// DefaultNameCacheSize bounds how many (owner, group, stream) expansions the
// sink remembers; beyond it the cache starts over (a warm sink rarely sees
// that many sources, and a rebuild costs one template expansion per source).
const DefaultNameCacheSize = 4096

// Target is a destination log group and stream in the target region.
type Target struct {
	Group  string
	Stream string
}

// hashSuffixLen is len("-") + 8 hex digits: what a truncated name ends with.
const hashSuffixLen = 9

// SanitizeGroup maps an expanded group template to a valid log group name.
//
// CloudWatch Logs accepts 1-512 characters of [A-Za-z0-9_\-/.#] and rejects
// names that start with "aws/" (CreateLogGroup). The mapping, applied in
// this order:
//   - every other character (one rune, or one byte that is not valid UTF-8)
//     becomes '_';
//   - an empty name becomes "_";
//   - a name starting with "aws/" gets a leading '_' ("_aws/...");
//   - a name longer than 512 characters keeps its first 503 and ends with
//     '-' and the 8 hex digits of the FNV-1a hash of the unsanitized name,
//     so two long names that share a prefix stay distinct.
//
// Valid names are returned unchanged, without allocating.
func SanitizeGroup(name string) string {
	if validGroup(name) {
		return name
	}
	var b strings.Builder
	b.Grow(len(name) + 1)
	for i := 0; i < len(name); {
		c := name[i]
		if c < utf8.RuneSelf {
			if groupByte(c) {
				b.WriteByte(c)
			} else {
				b.WriteByte('_')
			}
			i++
			continue
		}
		_, size := utf8.DecodeRuneInString(name[i:])
		b.WriteByte('_')
		i += size
	}
	s := b.String()
	if s == "" {
		s = "_"
	}
	if strings.HasPrefix(s, "aws/") {
		s = "_" + s
	}
	if len(s) > MaxNameLength {
		// Every byte is ASCII here, so bytes are characters.
		s = s[:MaxNameLength-hashSuffixLen] + hashSuffix(name)
	}
	return s
}

func validGroup(name string) bool {
	if name == "" || len(name) > MaxNameLength || strings.HasPrefix(name, "aws/") {
		return false
	}
	for i := 0; i < len(name); i++ {
		if !groupByte(name[i]) {
			return false
		}
	}
	return true
}

func groupByte(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	case c == '_', c == '-', c == '/', c == '.', c == '#':
		return true
	}
	return false
}

// SanitizeStream maps an expanded stream template to a valid log stream name.
//
// CloudWatch Logs accepts 1-512 characters without ':' or '*'
// (CreateLogStream). The mapping:
//   - ':' and '*' become '_', and so does each byte that is not valid UTF-8
//     (the SDK would otherwise send it as U+FFFD, a name nobody chose);
//   - an empty name becomes "_";
//   - a name longer than 512 characters keeps its first characters and ends
//     with '-' and the 8 hex digits of the FNV-1a hash of the unsanitized
//     name. Characters are counted in UTF-16 code units (a rune above U+FFFF
//     counts twice), which is never more than the service counts however it
//     counts.
//
// Valid names are returned unchanged, without allocating.
func SanitizeStream(name string) string {
	if validStream(name) {
		return name
	}
	var b strings.Builder
	b.Grow(len(name) + 1)
	units := 0
	limit := MaxNameLength
	if streamUnits(name) > MaxNameLength {
		limit = MaxNameLength - hashSuffixLen
	}
	for i := 0; i < len(name); {
		r, size := utf8.DecodeRuneInString(name[i:])
		n := 1
		if r > 0xFFFF {
			n = 2
		}
		if units+n > limit {
			break
		}
		units += n
		switch {
		case r == utf8.RuneError && size == 1, r == ':', r == '*':
			b.WriteByte('_')
		default:
			b.WriteString(name[i : i+size])
		}
		i += size
	}
	s := b.String()
	if s == "" {
		s = "_"
	}
	if limit < MaxNameLength {
		s += hashSuffix(name)
	}
	return s
}

func validStream(name string) bool {
	if name == "" || !utf8.ValidString(name) || strings.ContainsAny(name, ":*") {
		return false
	}
	return len(name) <= MaxNameLength || streamUnits(name) <= MaxNameLength
}

// streamUnits counts name's characters as UTF-16 code units; an invalid byte
// counts as one (it becomes '_').
func streamUnits(name string) int {
	n := 0
	for _, r := range name {
		if r > 0xFFFF {
			n += 2
		} else {
			n++
		}
	}
	return n
}

func hashSuffix(name string) string {
	h := fnv.New32a()
	h.Write([]byte(name))
	s := strconv.FormatUint(uint64(h.Sum32()), 16)
	return "-" + strings.Repeat("0", 8-len(s)) + s
}

// Namer expands the group and stream templates for each source and caches
// the sanitized result, so the hot path does one map lookup per record
// instead of rebuilding strings.
type Namer struct {
	groupTmpl, streamTmpl string
	max                   int

	mu    sync.Mutex
	cache map[sourceKey]Target
}

type sourceKey struct{ owner, group, stream string }

// NewNamer returns a Namer for the given templates (config.Expand
// placeholders) that remembers at most max expansions (DefaultNameCacheSize
// if max <= 0).
func NewNamer(groupTmpl, streamTmpl string, max int) *Namer {
	if max <= 0 {
		max = DefaultNameCacheSize
	}
	return &Namer{groupTmpl: groupTmpl, streamTmpl: streamTmpl, max: max, cache: make(map[sourceKey]Target)}
}

// Target returns the sanitized target of events from owner's logGroup/logStream.
func (n *Namer) Target(owner, logGroup, logStream string) Target {
	k := sourceKey{owner, logGroup, logStream}
	n.mu.Lock()
	defer n.mu.Unlock()
	if t, ok := n.cache[k]; ok {
		return t
	}
	// Clone what the cache keeps: a decoder's strings may be slices of a
	// whole payload, which a long-lived cache entry would otherwise pin.
	t := Target{
		Group:  strings.Clone(SanitizeGroup(config.Expand(n.groupTmpl, owner, logGroup, logStream))),
		Stream: strings.Clone(SanitizeStream(config.Expand(n.streamTmpl, owner, logGroup, logStream))),
	}
	if len(n.cache) >= n.max {
		// Starting over keeps the bound with no bookkeeping on the hot path.
		clear(n.cache)
	}
	n.cache[sourceKey{strings.Clone(owner), strings.Clone(logGroup), strings.Clone(logStream)}] = t
	return t
}

// Len reports how many expansions are cached.
func (n *Namer) Len() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return len(n.cache)
}

// String formats a target as group:stream for errors.
func (t Target) String() string { return t.Group + ":" + t.Stream }
