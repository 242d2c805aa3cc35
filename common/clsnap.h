/*
 * clsnap.h - the cluster's messages and clients as fields of a live
 * upgrade's snapshot (snap.h), so that the entries a server keeps until
 * Redis has them, and the clients it knows of, cross the exec.
 *
 * clsnap_msg_put() writes every field of an entry, its text last (it is
 * the rest of the record); clsnap_msg_get() reads them back, the text
 * pointing into the record.  clsnap_client_put() and _get() do the
 * same for a client, followed by whatever the caller adds.  A getter
 * returns -1 if a field is missing or does not fit.
 */
#ifndef FORKCHAT_CLSNAP_H
#define FORKCHAT_CLSNAP_H

#include "clmsg.h"
#include "msg.h"
#include "snap.h"

void	clsnap_client_put(struct snap *, const struct clmsg_client *);
int	clsnap_client_get(struct msg *, struct clmsg_client *);
void	clsnap_msg_put(struct snap *, const struct clmsg *);
int	clsnap_msg_get(struct msg *, struct clmsg *);

#endif
