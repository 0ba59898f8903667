package main

import (
	"fmt"
	"io"
	"net/http"
	"time"
)

// getMode recognises the arguments "get URL": hello then fetches URL once,
// prints the body and exits 0 on a 2xx answer, 1 otherwise. The tests run
// it inside a container to call another Service by its DNS name.
func getMode(args []string) (string, bool) {
	if len(args) != 2 || args[0] != "get" {
		return "", false
	}
	return args[1], true
}

// fetch GETs url, with a timeout that covers a resolver's retry of a lost
// UDP query (5 s each), and copies the body to w.
func fetch(url string, w io.Writer) error {
	c := &http.Client{Timeout: 20 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(w, resp.Body); err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return nil
}
