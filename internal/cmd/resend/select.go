package resend

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/valyala/fastjson"
	"golang.org/x/sync/errgroup"

	"github.com/logfan/logfan/shared/record"
	"github.com/logfan/logfan/shared/routes"
	"github.com/logfan/logfan/shared/s3layout"
)

// Selection chooses the archived events to resend.
type Selection struct {
	// Owners are sender account IDs; empty selects every owner.
	Owners []string
	// LogGroup selects log groups by a route table's glob; nil selects every group.
	LogGroup *routes.Pattern
	// Since and Until bound the events' timestamps, [Since, Until); zero is open.
	Since, Until time.Time
	// SourceRegions select events whose record carries one of these regions
	// (the @aws.region field a subscription filter with emitSystemFields
	// adds); events that carry none are then not selected. Empty selects
	// events of every region, and those that carry none.
	SourceRegions []string
}

// RegionField is the system field that names an event's source region.
const RegionField = "@aws.region"

// window is the selection's time bounds in milliseconds, [since, until).
func (s *Selection) window() (since, until int64) {
	since, until = math.MinInt64, math.MaxInt64
	if !s.Since.IsZero() {
		since = s.Since.UnixMilli()
	}
	if !s.Until.IsZero() {
		until = s.Until.UnixMilli()
	}
	return since, until
}

// hourMatches reports whether hour h (hours since the epoch) can hold a selected event.
func (s *Selection) hourMatches(h int64) bool {
	since, until := s.window()
	const msPerHour = int64(time.Hour / time.Millisecond)
	start := h * msPerHour
	return start+msPerHour > since && start < until
}

// dayMatches reports whether any hour of the UTC day starting at dayStart can hold a selected event.
func (s *Selection) dayMatches(dayStart time.Time) bool {
	since, until := s.window()
	start := dayStart.UnixMilli()
	return start+24*3600*1000 > since && start < until
}

// ownerMatches reports whether events of owner are selected.
func (s *Selection) ownerMatches(owner string) bool {
	return len(s.Owners) == 0 || slices.Contains(s.Owners, owner)
}

// groupMatches reports whether events of log group g are selected.
func (s *Selection) groupMatches(g string) bool { return s.LogGroup == nil || s.LogGroup.Match(g) }

// matcher selects events one by one; it is not safe for concurrent use.
type matcher struct {
	s            *Selection
	since, until int64
	p            fastjson.Parser
	// The last log group and owner seen and whether they matched: an
	// object's events share them.
	group, owner     string
	groupOK, ownerOK bool
}

func (s *Selection) matcher() *matcher {
	m := &matcher{s: s}
	m.since, m.until = s.window()
	return m
}

// match reports whether ev is selected. Owner and log group are checked
// again per event because a partition whose name was too long for a key
// holds a hash, not the name (s3layout.PartitionValue).
func (m *matcher) match(ev *record.Event) bool {
	if ev.Timestamp < m.since || ev.Timestamp >= m.until {
		return false
	}
	if ev.Owner != m.owner || m.owner == "" {
		m.owner, m.ownerOK = ev.Owner, m.s.ownerMatches(ev.Owner)
	}
	if ev.LogGroup != m.group || m.group == "" {
		m.group, m.groupOK = ev.LogGroup, m.s.groupMatches(ev.LogGroup)
	}
	if !m.ownerOK || !m.groupOK {
		return false
	}
	if len(m.s.SourceRegions) == 0 {
		return true
	}
	r := m.region(ev)
	return r != "" && slices.Contains(m.s.SourceRegions, r)
}

// region returns the event's source region, or "" when it carries none.
func (m *matcher) region(ev *record.Event) string {
	if len(ev.ExtractedFields) == 0 {
		return ""
	}
	v, err := m.p.ParseBytes(ev.ExtractedFields)
	if err != nil {
		return ""
	}
	return string(v.GetStringBytes(RegionField))
}

// Object is one archived object the selection may hold events of.
type Object struct {
	// Key is the object's key.
	Key string
	// Size is its stored size in bytes.
	Size int64
	// Parquet says the object is a Parquet file (gzip NDJSON otherwise).
	Parquet bool
}

// ListAPI is the S3 call listing makes; *s3.Client implements it.
type ListAPI interface {
	ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, optFns ...func(*s3.Options)) (*s3.ListObjectsV2Output, error)
}

// listConcurrency bounds parallel List calls: enough to hide latency over
// many log groups and days, far below S3's 5,500 GET/LIST per second per prefix.
const listConcurrency = 8

// lister walks the archive's partitions, descending only into those that
// can match: owner, then log group, then day, then hour.
type lister struct {
	api    ListAPI
	bucket string
	sel    *Selection

	mu      sync.Mutex
	objects []Object
	other   int // keys in matching partitions that are neither format
}

// List returns the objects under prefix in the partitions the selection
// can match, sorted by key, and how many other keys those partitions hold.
func List(ctx context.Context, api ListAPI, bucket, prefix string, sel *Selection) ([]Object, int, error) {
	l := &lister{api: api, bucket: bucket, sel: sel}
	root := ""
	if prefix = strings.Trim(prefix, "/"); prefix != "" {
		root = prefix + "/"
	}
	var owners []string
	if len(sel.Owners) > 0 {
		for _, o := range sel.Owners {
			owners = append(owners, root+s3layout.KeyOwner+"="+s3layout.PartitionValue(o)+"/")
		}
	} else {
		dirs, err := l.dirs(ctx, root)
		if err != nil {
			return nil, 0, err
		}
		for _, d := range dirs {
			if v, ok := value(d, root, s3layout.KeyOwner); ok && maybe(v, sel.ownerMatches) {
				owners = append(owners, d)
			}
		}
	}
	var groups []string
	for _, o := range owners {
		if lit, ok := literal(sel.LogGroup); ok {
			groups = append(groups, o+s3layout.KeyLogGroup+"="+s3layout.PartitionValue(lit)+"/")
			continue
		}
		dirs, err := l.dirs(ctx, o)
		if err != nil {
			return nil, 0, err
		}
		for _, d := range dirs {
			if v, ok := value(d, o, s3layout.KeyLogGroup); ok && maybe(v, sel.groupMatches) {
				groups = append(groups, d)
			}
		}
	}
	// Days and hours first, then the hours' objects: two passes, so no
	// listing waits for a slot held by the listing that started it.
	var hours []string
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(listConcurrency)
	for _, lg := range groups {
		g.Go(func() error {
			hs, err := l.hours(gctx, lg)
			l.mu.Lock()
			hours = append(hours, hs...)
			l.mu.Unlock()
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, 0, err
	}
	g, gctx = errgroup.WithContext(ctx)
	g.SetLimit(listConcurrency)
	for _, h := range hours {
		g.Go(func() error { return l.keys(gctx, h) })
	}
	if err := g.Wait(); err != nil {
		return nil, 0, err
	}
	slices.SortFunc(l.objects, func(a, b Object) int { return strings.Compare(a.Key, b.Key) })
	return l.objects, l.other, nil
}

// hours lists a log group's days and returns the directories of the
// matching hours of the matching days.
func (l *lister) hours(ctx context.Context, group string) ([]string, error) {
	dirs, err := l.dirs(ctx, group)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, d := range dirs {
		v, ok := value(d, group, s3layout.KeyDate)
		if !ok {
			continue
		}
		day, err := time.Parse(s3layout.DateLayout, v)
		if err != nil || !l.sel.dayMatches(day) {
			continue
		}
		hours, err := l.dirs(ctx, d)
		if err != nil {
			return nil, err
		}
		for _, h := range hours {
			v, ok := value(h, d, s3layout.KeyHour)
			n, err := strconv.Atoi(v)
			if !ok || err != nil || n < 0 || n > 23 || len(v) != s3layout.HourDigits {
				continue
			}
			if l.sel.hourMatches(day.Unix()/3600 + int64(n)) {
				out = append(out, h)
			}
		}
	}
	return out, nil
}

// keys lists one hour's objects.
func (l *lister) keys(ctx context.Context, dir string) error {
	p := s3.NewListObjectsV2Paginator(l.api, &s3.ListObjectsV2Input{Bucket: aws.String(l.bucket), Prefix: aws.String(dir)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("list s3://%s/%s: %w", l.bucket, dir, err)
		}
		l.mu.Lock()
		for _, o := range page.Contents {
			k := aws.ToString(o.Key)
			switch {
			case strings.HasSuffix(k, s3layout.ExtNDJSON):
				l.objects = append(l.objects, Object{Key: k, Size: aws.ToInt64(o.Size)})
			case strings.HasSuffix(k, s3layout.ExtParquet):
				l.objects = append(l.objects, Object{Key: k, Size: aws.ToInt64(o.Size), Parquet: true})
			default:
				l.other++
			}
		}
		l.mu.Unlock()
	}
	return nil
}

// dirs lists the "directories" (common prefixes) just under prefix.
func (l *lister) dirs(ctx context.Context, prefix string) ([]string, error) {
	var out []string
	p := s3.NewListObjectsV2Paginator(l.api, &s3.ListObjectsV2Input{Bucket: aws.String(l.bucket), Prefix: aws.String(prefix), Delimiter: aws.String("/")})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list s3://%s/%s: %w", l.bucket, prefix, err)
		}
		for _, cp := range page.CommonPrefixes {
			out = append(out, aws.ToString(cp.Prefix))
		}
	}
	return out, nil
}

// value returns the value of partition key k in directory dir just under parent.
func value(dir, parent, k string) (string, bool) {
	v, ok := strings.CutPrefix(strings.TrimSuffix(strings.TrimPrefix(dir, parent), "/"), k+"=")
	return v, ok
}

// maybe reports whether an escaped partition value can match: an
// unreadable or hashed value (too long for a key) may, and is then
// filtered event by event.
func maybe(escaped string, match func(string) bool) bool {
	if strings.ContainsRune(escaped, '~') {
		return true
	}
	v, err := s3layout.Unescape(escaped)
	if err != nil {
		return true
	}
	return match(v)
}

// literal returns the one log group p names, if it has no wildcard.
func literal(p *routes.Pattern) (string, bool) {
	if p == nil {
		return "", false
	}
	return p.Literal()
}
