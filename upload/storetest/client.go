package storetest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/parley-chat/parley/upload"
)

// Client is how the suite reaches a store's presigned URLs.
type Client struct {
	// HTTP sends the requests. If nil, http.DefaultClient.
	HTTP *http.Client
	// Advance moves the store's clock forward. If nil, the suite waits in
	// real time (as it must for an S3 server) and keeps those waits short.
	Advance func(d time.Duration)
}

func (c Client) http() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return http.DefaultClient
}

// Response is what the store answered.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// Send sends data as the presigned request p describes: a multipart form
// with p.Fields then the file last (POST), or the raw body with p.Headers
// (PUT). Fields in override replace (or, with value "\x00", drop) presigned
// ones; tests use it to tamper. Send returns an error only when the request
// could not be made; check Response.Status.
func Send(ctx context.Context, hc *http.Client, p *upload.Presigned, data []byte, override map[string]string) (*Response, error) {
	if hc == nil {
		hc = http.DefaultClient
	}
	fields := make(map[string]string, len(p.Fields)+len(p.Headers))
	src := p.Fields
	if p.Method == http.MethodPut {
		src = p.Headers
	}
	for k, v := range src {
		fields[k] = v
	}
	for k, v := range override {
		if v == "\x00" {
			delete(fields, k)
		} else {
			fields[k] = v
		}
	}
	var req *http.Request
	var err error
	switch p.Method {
	case http.MethodPost:
		var body bytes.Buffer
		mw := multipart.NewWriter(&body)
		names := make([]string, 0, len(fields))
		for k := range fields {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			if err := mw.WriteField(k, fields[k]); err != nil {
				return nil, err
			}
		}
		fw, err := mw.CreateFormFile("file", "upload.bin")
		if err != nil {
			return nil, err
		}
		if _, err := fw.Write(data); err != nil {
			return nil, err
		}
		if err := mw.Close(); err != nil {
			return nil, err
		}
		req, err = http.NewRequestWithContext(ctx, http.MethodPost, p.URL, &body)
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", mw.FormDataContentType())
	case http.MethodPut:
		req, err = http.NewRequestWithContext(ctx, http.MethodPut, p.URL, bytes.NewReader(data))
		if err != nil {
			return nil, err
		}
		for k, v := range fields {
			req.Header.Set(k, v)
		}
	default:
		return nil, fmt.Errorf("storetest: unknown method %q", p.Method)
	}
	return do(hc, req)
}

// Get fetches a (presigned download) URL.
func Get(ctx context.Context, hc *http.Client, url string) (*Response, error) {
	if hc == nil {
		hc = http.DefaultClient
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	return do(hc, req)
}

func do(hc *http.Client, req *http.Request) (*Response, error) {
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, err
	}
	return &Response{Status: resp.StatusCode, Header: resp.Header, Body: b}, nil
}

// signatureName returns the name of the field or query parameter of m that
// carries the signature (X-Amz-Signature, x-parley-signature...).
func signatureName[V any](m map[string]V) string {
	for k := range m {
		if strings.Contains(strings.ToLower(k), "signature") {
			return k
		}
	}
	return ""
}

// tamper changes one character of s, keeping it valid hex or base64.
func tamper(s string) string {
	if s == "" {
		return "0"
	}
	b := []byte(s)
	i := len(b) / 2
	if b[i] == '0' {
		b[i] = '1'
	} else {
		b[i] = '0'
	}
	return string(b)
}
