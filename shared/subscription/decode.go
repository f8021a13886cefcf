package subscription

// Decoder decodes subscription payloads, reusing its decompressor and
// buffers between calls. A Decoder is not safe for concurrent use; the
// Messages it returns own their memory and stay valid after the next call.
type Decoder struct {
	maxDecompressed int64
}

// NewDecoder returns a Decoder that rejects payloads whose decompressed size
// exceeds maxDecompressed bytes (DefaultMaxDecompressed if zero or negative).
func NewDecoder(maxDecompressed int64) *Decoder {
	if maxDecompressed <= 0 {
		maxDecompressed = DefaultMaxDecompressed
	}
	return &Decoder{maxDecompressed: maxDecompressed}
}

// Decode decodes the data of one Kinesis record (gzip-compressed JSON).
func (d *Decoder) Decode(data []byte) (*Message, error) {
	panic("TODO: implemented by the decode work")
}
