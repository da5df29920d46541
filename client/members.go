package client

import (
	"context"
	"net/url"

	"github.com/pregon/pregon/dispatcher"
)

// Members returns one page of a list's members with their status
// (pending, confirmed, unsubscribed) and suppression; status, when not "",
// keeps only those in it. A filtered page may be short, or empty, before
// the last: read on while NextCursor is not "".
func (c *Client) Members(ctx context.Context, listID string, status dispatcher.MemberStatus, pq PageQuery) (*Page[dispatcher.ListMember], error) {
	var q url.Values
	if status != "" {
		q = url.Values{"status": {string(status)}}
	}
	return getPage[dispatcher.ListMember](ctx, c, "/v1/lists/"+pathID(listID)+"/contacts", q, pq)
}
