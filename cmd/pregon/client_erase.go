package main

import (
	"context"
	"fmt"

	"github.com/pregon/pregon/dispatcher"
)

const eraseUsage = `  pregon contact erase EMAIL --yes
                                  erase an address on request: it leaves every list, its
                                  name, outlet and suppression are deleted, its delivery
                                  records keep a keyed hash instead, and only that hash
                                  remains, so that it is never mailed or imported again
                                  (a coordinator token; an admin undoes it with
                                  "pregon suppressions lift EMAIL")
  pregon suppressions show EMAIL  say whether an address is suppressed and why, erased
                                  included (an admin token)
`

// contactErase runs "pregon contact erase EMAIL --yes".
func (c *cli) contactErase(ctx context.Context, args []string) error {
	cm := c.flags("contact erase", "contact erase EMAIL --yes")
	yes := cm.fs.Bool("yes", false, "confirm the erasure: it cannot be undone, but for the suppression (an admin may lift it)")
	pos, a, err := c.connect(cm, args, 1, "EMAIL")
	if err != nil {
		return err
	}
	if !*yes {
		return usageErr("contact erase: erasing "+pos[0]+" deletes its contact record and takes it off every list for good; "+
			"add --yes to confirm", cm.usage)
	}
	e, err := a.EraseContact(ctx, pos[0])
	if err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "erased: taken off %d %s; %d queued %s suppressed, %d delivery %s redacted",
		e.Lists, plural(e.Lists, "list", "lists"), e.Suppressed, plural(e.Suppressed, "delivery", "deliveries"),
		e.Redacted, plural(e.Redacted, "record", "records"))
	if e.Sending > 0 {
		fmt.Fprintf(c.stdout, "; %d being sent at that moment (they may still go out)", e.Sending)
	}
	fmt.Fprintf(c.stdout, "\naudit: %s\n", orDash(e.EmailHMAC))
	return nil
}

// suppressionsShow runs "pregon suppressions show EMAIL".
func (c *cli) suppressionsShow(ctx context.Context, args []string) error {
	cm := c.flags("suppressions show", "suppressions show EMAIL")
	pos, a, err := c.connect(cm, args, 1, "EMAIL")
	if err != nil {
		return err
	}
	s, err := a.Suppression(ctx, pos[0])
	if err != nil {
		return err
	}
	if s.Reason == dispatcher.ReasonErased {
		fmt.Fprintf(c.stdout, "%s: erased on request since %s\n", pos[0], suppressionTime(s.At))
		return nil
	}
	fmt.Fprintf(c.stdout, "%s: %s since %s, from %s\n", s.Email, s.Reason, suppressionTime(s.At), orDash(s.Source))
	return nil
}
