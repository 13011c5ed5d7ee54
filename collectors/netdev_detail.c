#include "netdev_detail.h"

/* In node_exporter's order: the totals, then the detailed receive and transmit
 * errors, then the compressed and unhandled packets. */
const char *const netdev_detail_names[NETDEV_DETAIL_N] = {
	"receive_packets",
	"transmit_packets",
	"receive_bytes",
	"transmit_bytes",
	"receive_errors",
	"transmit_errors",
	"receive_dropped",
	"transmit_dropped",
	"multicast",
	"collisions",
	"receive_length_errors",
	"receive_over_errors",
	"receive_crc_errors",
	"receive_frame_errors",
	"receive_fifo_errors",
	"receive_missed_errors",
	"transmit_aborted_errors",
	"transmit_carrier_errors",
	"transmit_fifo_errors",
	"transmit_heartbeat_errors",
	"transmit_window_errors",
	"receive_compressed",
	"transmit_compressed",
	"receive_nohandler",
};

const char *const netdev_detail_proc_names[NETDEV_PROC_COLUMNS] = {
	"receive_bytes",  "receive_packets",  "receive_errors",     "receive_dropped",
	"receive_fifo",   "receive_frame",    "receive_compressed", "receive_multicast",
	"transmit_bytes", "transmit_packets", "transmit_errors",    "transmit_dropped",
	"transmit_fifo",  "transmit_colls",   "transmit_carrier",   "transmit_compressed",
};

void netdev_detail_fill(uint64_t v[NETDEV_DETAIL_N], const struct rtnl_link_stats64 *st)
{
	const uint64_t in[NETDEV_DETAIL_N] = {
		st->rx_packets,       st->tx_packets,          st->rx_bytes,
		st->tx_bytes,         st->rx_errors,           st->tx_errors,
		st->rx_dropped,       st->tx_dropped,          st->multicast,
		st->collisions,       st->rx_length_errors,    st->rx_over_errors,
		st->rx_crc_errors,    st->rx_frame_errors,     st->rx_fifo_errors,
		st->rx_missed_errors, st->tx_aborted_errors,   st->tx_carrier_errors,
		st->tx_fifo_errors,   st->tx_heartbeat_errors, st->tx_window_errors,
		st->rx_compressed,    st->tx_compressed,       st->rx_nohandler,
	};
	for (int i = 0; i < NETDEV_DETAIL_N; i++)
		v[i] = in[i];
}
