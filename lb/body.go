package lb

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strconv"
)

// Bodies are copied between two bufio pairs without intermediate buffers:
// what the reader holds is written, then discarded. Before a read that may
// block, the writer is flushed, so that a body that trickles in streams
// through instead of waiting for a full buffer.

var errChunk = errors.New("malformed chunked body")

// maxTrailers bounds the trailer section of a chunked body.
const maxTrailers = 16 << 10

// fill makes sure src holds at least n bytes (n <= its size), flushing dst
// first when it must wait for them.
func fill(dst *bufio.Writer, src *bufio.Reader, n int) (rerr, werr error) {
	if src.Buffered() >= n {
		return nil, nil
	}
	if err := dst.Flush(); err != nil {
		return nil, err
	}
	if _, err := src.Peek(n); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return err, nil
	}
	return nil, nil
}

// copyN copies n bytes from src to dst.
func copyN(dst *bufio.Writer, src *bufio.Reader, n int64) (rerr, werr error) {
	for n > 0 {
		if rerr, werr = fill(dst, src, 1); rerr != nil || werr != nil {
			return rerr, werr
		}
		k := int(min(int64(src.Buffered()), n))
		b, _ := src.Peek(k)
		if _, err := dst.Write(b); err != nil {
			return nil, err
		}
		src.Discard(k)
		n -= int64(k)
	}
	return nil, nil
}

// copyToEOF copies src to dst until src ends: the body of a response that
// has no length, which is chunked for the client when chunk is true.
func copyToEOF(dst *bufio.Writer, src *bufio.Reader, chunk bool) (rerr, werr error) {
	var num [16]byte
	for {
		if rerr, werr = fill(dst, src, 1); werr != nil {
			return nil, werr
		}
		if rerr == io.ErrUnexpectedEOF {
			break
		}
		if rerr != nil {
			return rerr, nil
		}
		b, _ := src.Peek(src.Buffered())
		if chunk {
			dst.Write(strconv.AppendInt(num[:0], int64(len(b)), 16))
			dst.WriteString("\r\n")
		}
		if _, err := dst.Write(b); err != nil {
			return nil, err
		}
		if chunk {
			dst.WriteString("\r\n")
		}
		src.Discard(len(b))
	}
	if chunk {
		_, werr = dst.WriteString("0\r\n\r\n")
	}
	return nil, werr
}

// copyChunked copies a chunked body from src to dst, chunked again with the
// trailers when chunk is true, decoded otherwise (for HTTP/1.0 clients).
// Chunk extensions are dropped. Chunk lines must end in CRLF: a bare LF is
// what request smuggling through chunked bodies relies on.
func copyChunked(dst *bufio.Writer, src *bufio.Reader, chunk bool) (rerr, werr error) {
	var num [16]byte
	for {
		size, rerr, werr := chunkSize(dst, src)
		if rerr != nil || werr != nil {
			return rerr, werr
		}
		if size == 0 {
			return copyTrailers(dst, src, chunk)
		}
		if chunk {
			dst.Write(strconv.AppendUint(num[:0], size, 16))
			dst.WriteString("\r\n")
		}
		if rerr, werr = copyN(dst, src, int64(size)); rerr != nil || werr != nil {
			return rerr, werr
		}
		if rerr, werr = fill(dst, src, 2); rerr != nil || werr != nil {
			return rerr, werr
		}
		if crlf, _ := src.Peek(2); crlf[0] != '\r' || crlf[1] != '\n' {
			return errChunk, nil
		}
		src.Discard(2)
		if chunk {
			dst.WriteString("\r\n")
		}
	}
}

// line reads one CRLF-terminated line of a chunked body, without the CRLF,
// valid until the next read of src.
func line(dst *bufio.Writer, src *bufio.Reader) (b []byte, rerr, werr error) {
	if buf, _ := src.Peek(src.Buffered()); bytes.IndexByte(buf, '\n') < 0 {
		if werr = dst.Flush(); werr != nil {
			return nil, nil, werr
		}
	}
	b, err := src.ReadSlice('\n')
	switch {
	case err == bufio.ErrBufferFull:
		return nil, errChunk, nil
	case err == io.EOF:
		return nil, io.ErrUnexpectedEOF, nil
	case err != nil:
		return nil, err, nil
	case len(b) < 2 || b[len(b)-2] != '\r':
		return nil, errChunk, nil
	}
	return b[:len(b)-2], nil, nil
}

// chunkSize reads a chunk-size line: hex digits, then optional whitespace
// and extensions.
func chunkSize(dst *bufio.Writer, src *bufio.Reader) (size uint64, rerr, werr error) {
	b, rerr, werr := line(dst, src)
	if rerr != nil || werr != nil {
		return 0, rerr, werr
	}
	i := 0
	for ; i < len(b) && i < 16; i++ {
		c := b[i]
		switch {
		case '0' <= c && c <= '9':
			size = size<<4 | uint64(c-'0')
		case 'a' <= c && c <= 'f':
			size = size<<4 | uint64(c-'a'+10)
		case 'A' <= c && c <= 'F':
			size = size<<4 | uint64(c-'A'+10)
		default:
			goto rest
		}
	}
rest:
	if i == 0 || size > 1<<62 {
		return 0, errChunk, nil
	}
	ext := bytes.TrimLeft(b[i:], " \t")
	if (len(ext) > 0 && ext[0] != ';') || !validValue(ext) {
		return 0, errChunk, nil
	}
	return size, nil, nil
}

// copyTrailers copies the trailer section and the final CRLF, writing the
// last chunk first when chunk is true; without chunk the trailers are read
// and dropped.
func copyTrailers(dst *bufio.Writer, src *bufio.Reader, chunk bool) (rerr, werr error) {
	if chunk {
		dst.WriteString("0\r\n")
	}
	total := 0
	for {
		b, rerr, werr := line(dst, src)
		if rerr != nil || werr != nil {
			return rerr, werr
		}
		if total += len(b); total > maxTrailers {
			return errChunk, nil
		}
		if len(b) > 0 {
			colon := bytes.IndexByte(b, ':')
			if colon <= 0 || !isToken(b[:colon]) || !validValue(b[colon+1:]) {
				return errChunk, nil
			}
		}
		if chunk {
			dst.Write(b)
			dst.WriteString("\r\n")
		}
		if len(b) == 0 {
			return nil, nil
		}
	}
}
