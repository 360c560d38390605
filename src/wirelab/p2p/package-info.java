/**
 * The freeCodeCamp peer-to-peer node, on the WebSocket layer below it. A reader's map, by role,
 * in reading order; each file names its one job at its top.
 *
 * <pre>
 * the node        PeerNode          starts and stops a node; what its users may ask
 *                 Heartbeat         its clock: IHAVE rounds, GRAFT timeouts, pings, free slots, catch-up
 *                 NodeConfig        a node folder's settings, each with its default and bounds
 * the wire        Message           every message type, in one table, built and read here
 * connections     Neighbour         one connection, whichever side dialed it: what it may be sent, its rates
 *                 Outbox            what waits to be sent on it, bounded in bytes, and the thread that sends
 *                 OutgoingConnection, NoTls   a connection dialed with the JDK's client, which sets up no TLS
 *                 Inbox             what each message that comes in does
 * membership      Membership        who the neighbours are, and what a HANDSHAKE changes
 *                 OutgoingPeers     whom the node dials: connectedAddresses, attemptingToConnectToAddress
 *                 AddressBook, Dialer, Eviction   addresses to dial; one dial at a time; who makes room
 *                 PeerAddresses, WsAddress        which addresses may be dialed; one spelling of each
 * broadcast       BroadcastTree     Plumtree: one copy of each transaction per node, over slow links too
 *                 Link              one link of the tree: eager or lazy, its round trip
 *                 SeenMessages      copies known without parsing them
 * catch-up        CatchUp           two pools brought to their union when nodes meet, and on a timer
 * the pool        TransactionPool, PoolIndex, PoolFile, PoolWriter   stored means on disk, once per digest
 *                 TransactionDigest, CanonicalJson, TransactionId    what a transaction is, and its name
 *                 SignedTransaction, Wallet         who wrote it: Ed25519 over the canonical JSON
 * limits          Sources, Refusal, MessageCounts   budgets per source; every refusal; the counters
 * the view        MeshView, NodeEvents, mesh.html   /status, /events, and the page that draws the mesh
 * the client      AddTransaction    the curriculum's add-transaction.js: one TRANSACTION, then leave
 * </pre>
 */
package wirelab.p2p;
