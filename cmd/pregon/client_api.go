package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/pregon/pregon/client"
)

// pageSize is the limit the client asks for when it reads every page.
const pageSize = 500

// explain adds to err what a person at the command line can do about it:
// check the token after a 401, start Pregón or fix the URL when it cannot
// be reached. ctx's own end is returned as it is.
func explain(ctx context.Context, err error) error {
	var ne *client.NetError
	switch {
	case err == nil:
		return nil
	case ctx.Err() != nil && errors.Is(err, ctx.Err()):
		return ctx.Err()
	case errors.As(err, &ne):
		return fmt.Errorf("cannot reach Pregón at %s (is it running? set PREGON_API_URL or --api-url): %w", ne.BaseURL, ne.Err)
	case client.StatusOf(err) == http.StatusUnauthorized:
		return fmt.Errorf("%w\n  (check PREGON_TOKEN or --token)", err)
	}
	return err
}
