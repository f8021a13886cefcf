package subscription

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/klauspost/compress/flate"
	"github.com/klauspost/compress/gzip"
)

// hintRatio bounds the compression ratio the decoder believes when it
// sizes its buffer from the gzip size trailer (real logs compress 5-20:1).
// A lying or truncated trailer then costs at most a modest allocation, and a
// payload that really compresses better just grows the buffer by doubling.
const hintRatio = 32

// retainBuffer is the largest decompression buffer a Decoder keeps between
// calls; a rare huge payload should not pin its memory for the Lambda's life.
const retainBuffer = 16 << 20

// Decoder decodes subscription payloads, reusing its decompressor and
// buffers between calls. A Decoder is not safe for concurrent use; the
// Messages it returns own their memory and stay valid after the next call.
//
// Each Message's strings are slices of one string allocated per payload, so
// a Message costs a handful of allocations however many events it holds; a
// caller that keeps one event's Message string keeps that payload's text
// alive, which is the intended lifetime (one batch) in logfan.
type Decoder struct {
	maxDecompressed int64
	zr              *gzip.Reader
	src             bytes.Reader
	buf             []byte // decompressed payload; reused, never handed out
	p               parser
	inflated        int64 // the last payload's decompressed size
}

// NewDecoder returns a Decoder that rejects payloads whose decompressed size
// exceeds maxDecompressed bytes (DefaultMaxDecompressed if zero or negative).
func NewDecoder(maxDecompressed int64) *Decoder {
	if maxDecompressed <= 0 {
		maxDecompressed = DefaultMaxDecompressed
	}
	return &Decoder{maxDecompressed: maxDecompressed}
}

// Inflated is the decompressed size of the payload Decode last read (0 when
// it could not be inflated): about the memory its Message holds.
func (d *Decoder) Inflated() int64 { return d.inflated }

// Decode decodes the data of one Kinesis record (gzip-compressed JSON), or
// the base64-decoded awslogs.data of a direct subscription event.
//
// Every failure is a *DecodeError whose Kind is one of the Err* sentinels.
// See the package documentation for how unusual input is treated.
func (d *Decoder) Decode(data []byte) (*Message, error) {
	var m *Message
	n, err := d.inflate(data)
	d.inflated = int64(n)
	if err == nil {
		m, err = d.p.decode(d.buf[:n])
	}
	if cap(d.buf) > retainBuffer { // after a bomb too
		d.buf = nil
	}
	return m, err
}

// inflate gunzips data into d.buf and returns the decompressed length. It
// never decompresses more than maxDecompressed+1 bytes into the buffer, so a
// gzip bomb costs at most the cap in memory and the time to inflate it.
func (d *Decoder) inflate(data []byte) (int, error) {
	if len(data) == 0 {
		return 0, decodeErr(ErrNotGzip, nil, "empty input")
	}
	// Check the magic ourselves: the gzip reader reads a 10-byte header
	// before looking at it, which would call a short non-gzip input truncated.
	if data[0] != 0x1f || (len(data) > 1 && data[1] != 0x8b) {
		return 0, decodeErr(ErrNotGzip, nil, "input starts with %s, want 1f8b", hexPrefix(data))
	}
	limit := d.maxDecompressed + 1
	if want := sizeHint(data, limit); int64(cap(d.buf)) < want {
		d.buf = make([]byte, want)
	}
	buf := d.buf[:cap(d.buf)]
	if int64(len(buf)) > limit {
		buf = buf[:limit]
	}

	d.src.Reset(data)
	if err := d.resetReader(); err != nil {
		return 0, gzipErr(err, data, 1)
	}
	n, member := 0, 1
	for {
		if n == len(buf) {
			if int64(n) >= limit {
				return 0, d.tooLarge()
			}
			grown := int64(2 * len(buf))
			grown = max(grown, 4096)
			grown = min(grown, limit)
			nb := make([]byte, grown)
			copy(nb, buf[:n])
			buf, d.buf = nb, nb
		}
		// Never pass an empty slice: the gzip reader loops until it
		// returns at least one byte.
		m, err := d.zr.Read(buf[n:])
		n += m
		if int64(n) > d.maxDecompressed {
			return 0, d.tooLarge()
		}
		if err == nil {
			continue
		}
		if err != io.EOF {
			return 0, gzipErr(err, data, member)
		}
		// End of one gzip member. RFC 1952 allows a series of members;
		// anything else after the last one is damage, not padding.
		rest := d.src.Len()
		if rest == 0 {
			return n, nil
		}
		tail := data[len(data)-rest:]
		if tail[0] != 0x1f || (len(tail) > 1 && tail[1] != 0x8b) {
			return 0, decodeErr(ErrCorruptGzip, nil, "%d bytes of trailing data after gzip member %d (starting %s)", rest, member, hexPrefix(tail))
		}
		member++
		if err := d.resetReader(); err != nil {
			return 0, gzipErr(err, data, member)
		}
	}
}

// resetReader points the reusable gzip reader at d.src for one member.
// Members are read one at a time (Multistream off) so that trailing bytes
// can be told apart from a following member.
func (d *Decoder) resetReader() error {
	if d.zr == nil {
		zr, err := gzip.NewReader(&d.src)
		if err != nil {
			return err
		}
		d.zr = zr
	} else if err := d.zr.Reset(&d.src); err != nil {
		return err
	}
	d.zr.Multistream(false)
	return nil
}

func (d *Decoder) tooLarge() *DecodeError {
	return decodeErr(ErrTooLarge, nil, "payload inflates to more than %d bytes", d.maxDecompressed)
}

// gzipErr classifies an error of the gzip reader.
func gzipErr(err error, data []byte, member int) *DecodeError {
	var corrupt flate.CorruptInputError
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return decodeErr(ErrTruncated, err, "input ends inside gzip member %d after %d bytes", member, len(data))
	case errors.Is(err, gzip.ErrChecksum):
		return decodeErr(ErrCorruptGzip, err, "gzip member %d fails its CRC-32 or size check", member)
	case errors.Is(err, gzip.ErrHeader):
		return decodeErr(ErrCorruptGzip, err, "bad header of gzip member %d", member)
	case errors.As(err, &corrupt):
		return decodeErr(ErrCorruptGzip, err, "invalid deflate data in gzip member %d", member)
	}
	return decodeErr(ErrCorruptGzip, err, "gzip member %d", member)
}

// sizeHint guesses the buffer a payload needs from the gzip trailer's ISIZE
// (the last member's size mod 2^32), bounded by a plausible ratio and by the
// cap. A wrong hint only costs a regrowth.
func sizeHint(data []byte, limit int64) int64 {
	hint := int64(4096)
	if len(data) >= 18 {
		hint = int64(binary.LittleEndian.Uint32(data[len(data)-4:])) + 512
	}
	return min(hint, int64(len(data))*hintRatio+4096, limit)
}

func hexPrefix(b []byte) string {
	if len(b) > 4 {
		return fmt.Sprintf("%x...", b[:4])
	}
	return fmt.Sprintf("%x", b)
}
