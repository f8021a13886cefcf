package s3layout

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// MaxSegmentBytes bounds an escaped partition value (owner, log group) in a
// key. S3 keys are at most 1,024 bytes; a 512-character log group made of
// slashes would escape to 1,536. With this bound, the fixed parts of a key
// (about 210 bytes with a 12-digit owner and the two 56-digit sequence
// numbers of an object name) and a prefix of up to ~170 bytes stay under
// S3's limit.
const MaxSegmentBytes = 640

// hashedMark separates a truncated escaped value from the hash that keeps it
// unique. Escape always escapes '~', so an escaped value never
// contains it and a hashed value cannot be mistaken for an escaped one.
const hashedMark = '~'

// ErrHashed means a partition value is a truncated name plus a hash, which
// cannot be unescaped; the full name is in every record of the object.
var ErrHashed = errors.New("partition value is truncated and hashed")

// unescapeValue reverses PartitionValue, or returns ErrHashed.
func unescapeValue(v string) (string, error) {
	if strings.IndexByte(v, hashedMark) >= 0 {
		return "", fmt.Errorf("unescape %q: %w", v, ErrHashed)
	}
	return Unescape(v)
}

// PartitionValue is Escape bounded to MaxSegmentBytes: a longer
// escaped value is cut (never inside an escape) and followed by '~' and the
// first 16 hex digits of the SHA-256 of s, so distinct names stay distinct.
func PartitionValue(s string) string {
	e := Escape(s)
	if len(e) <= MaxSegmentBytes {
		return e
	}
	sum := sha256.Sum256([]byte(s))
	cut := MaxSegmentBytes - 1 - 16
	// Back off so the cut does not split a %XX escape.
	if i := strings.LastIndexByte(e[max(0, cut-2):cut], '%'); i >= 0 {
		cut = max(0, cut-2) + i
	}
	return e[:cut] + string(hashedMark) + hex.EncodeToString(sum[:8])
}

// Partition is one Athena/Glue partition: an owner, a source log group and
// an hour of event time (UTC).
type Partition struct {
	Owner    string
	LogGroup string
	// Hour is the event time's hour, in hours since the Unix epoch.
	Hour int64
}

const msPerHour = int64(time.Hour / time.Millisecond)

// HourOf returns the hour (since the epoch, UTC) of a timestamp in
// milliseconds, rounding down for times before 1970 too.
func HourOf(ms int64) int64 {
	h := ms / msPerHour
	if ms%msPerHour < 0 {
		h--
	}
	return h
}

// Path returns the partition's key path under prefix, with a trailing slash:
// <prefix>/owner=<owner>/log_group=<group>/dt=YYYY-MM-DD/hour=HH/ (Dir).
func (p Partition) Path(prefix string) string {
	t := time.UnixMilli(p.Hour * msPerHour).UTC()
	return Dir(prefix, PartitionValue(p.Owner), PartitionValue(p.LogGroup), t.Format(DateLayout), t.Format(HourLayout))
}

// ObjectName returns the file name of an object holding the events from
// event firstEvent of record firstSeq to event lastEvent (inclusive) of
// record lastSeq, both of shard, the events counted in the record as it is
// in the stream:
//
//	<shard>_<firstSeq>_<firstEvent>-<lastSeq>_<lastEvent>   (two records)
//	<shard>_<firstSeq>_<firstEvent>-<lastEvent>             (one record)
//
// The name fixes both ends and nothing else (not the sequence number a
// retry starts from, nor a part number), so a retry of the same records
// writes the same names, and an object with fewer or other events (a
// smaller, bisected or deduplicated retry batch) gets a name of its own
// instead of overwriting one that landed. What landed stays landed: the
// ledger's word on it can never go stale.
func ObjectName(shard, firstSeq string, firstEvent int, lastSeq string, lastEvent int) string {
	return ObjectNameExt(shard, firstSeq, firstEvent, lastSeq, lastEvent, ExtNDJSON)
}

// ObjectNameExt is ObjectName with the extension ext (ExtParquet for Parquet objects). Sequence numbers and
// indexes hold no '-', so the part after the name's last '-' is the last
// event: "<lastSeq>_<lastEvent>" or, in the first event's record, "<lastEvent>".
func ObjectNameExt(shard, firstSeq string, firstEvent int, lastSeq string, lastEvent int, ext string) string {
	oneRecord := lastSeq == firstSeq
	shard, firstSeq = Escape(shard), Escape(firstSeq)
	var b strings.Builder
	b.Grow(len(shard) + 2*len(firstSeq) + 16 + len(ext))
	b.WriteString(shard)
	b.WriteByte('_')
	b.WriteString(firstSeq)
	b.WriteByte('_')
	b.WriteString(strconv.Itoa(firstEvent))
	b.WriteByte('-')
	if !oneRecord {
		b.WriteString(Escape(lastSeq))
		b.WriteByte('_')
	}
	b.WriteString(strconv.Itoa(lastEvent))
	b.WriteString(ext)
	return b.String()
}

// ParsePath parses a key written by the sink (after prefix) back into its
// partition, for tools that list the bucket. Hashed log groups return
// ErrHashed.
func ParsePath(key, prefix string) (Partition, error) {
	rest := key
	if prefix != "" {
		if !strings.HasPrefix(rest, prefix+"/") {
			return Partition{}, fmt.Errorf("parse key %q: not under prefix %q", key, prefix)
		}
		rest = rest[len(prefix)+1:]
	}
	parts := strings.Split(rest, "/")
	if len(parts) != 5 {
		return Partition{}, fmt.Errorf("parse key %q: want owner=/log_group=/dt=/hour=/name", key)
	}
	var vals [4]string
	for i, k := range PartitionKeys {
		name := k + "="
		v, ok := strings.CutPrefix(parts[i], name)
		if !ok {
			return Partition{}, fmt.Errorf("parse key %q: segment %d does not start with %q", key, i, name)
		}
		vals[i] = v
	}
	var p Partition
	var err error
	if p.Owner, err = unescapeValue(vals[0]); err != nil {
		return Partition{}, fmt.Errorf("parse key %q: owner: %w", key, err)
	}
	if p.LogGroup, err = unescapeValue(vals[1]); err != nil {
		return Partition{}, fmt.Errorf("parse key %q: log group: %w", key, err)
	}
	day, err := time.Parse(DateLayout, vals[2])
	if err != nil {
		return Partition{}, fmt.Errorf("parse key %q: dt: %w", key, err)
	}
	h, err := strconv.Atoi(vals[3])
	if err != nil || h < 0 || h > 23 || len(vals[3]) != 2 {
		return Partition{}, fmt.Errorf("parse key %q: hour %q: want 00-23", key, vals[3])
	}
	p.Hour = day.UnixMilli()/msPerHour + int64(h)
	return p, nil
}
