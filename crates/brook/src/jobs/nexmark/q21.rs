//! q21 — add channel id: the id of a hot channel, else the URL's `channel_id`
//! parameter (`REGEXP_EXTRACT(url, '(&|^)channel_id=([^&]*)', 2)`); bids with
//! neither are dropped.

use super::csv::{CsvLine, CsvRow};
use super::streams::bids;
use brook_api::DataStream;
use brook_connectors::nexmark::{Bid, Event};
use serde::{Deserialize, Serialize};

/// `(auction, bidder, price, channel, channel_id)`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Q21Row {
    pub auction: i64,
    pub bidder: i64,
    pub price: i64,
    pub channel: String,
    pub channel_id: String,
}

impl CsvRow for Q21Row {
    fn write_csv(&self, out: &mut String) {
        CsvLine::new(out).int(self.auction).int(self.bidder).int(self.price).str(&self.channel).str(&self.channel_id);
    }
}

/// `REGEXP_EXTRACT(url, '(&|^)channel_id=([^&]*)', 2)`: the value of the
/// leftmost `channel_id=` at the start of `url` or right after a `&`.
pub fn extract_channel_id(url: &str) -> Option<&str> {
    const NAME: &str = "channel_id=";
    let start = if url.starts_with(NAME) { NAME.len() } else { url.find("&channel_id=")? + 1 + NAME.len() };
    let rest = &url[start..];
    Some(rest.split('&').next().unwrap_or(rest))
}

/// The hot channels' fixed ids (`LOWER(channel)` compared).
pub fn hot_channel_id(channel: &str) -> Option<&'static str> {
    const HOT: [(&str, &str); 4] = [("apple", "0"), ("google", "1"), ("facebook", "2"), ("baidu", "3")];
    HOT.iter().find(|(name, _)| channel.eq_ignore_ascii_case(name)).map(|(_, id)| *id)
}

pub fn query(events: DataStream<Event>) -> DataStream<Q21Row> {
    bids(events)
        .flat_map(|b: Bid| {
            let id = match hot_channel_id(&b.channel) {
                Some(id) => id.to_string(),
                None => extract_channel_id(&b.url)?.to_string(),
            };
            Some(Q21Row { auction: b.auction, bidder: b.bidder, price: b.price, channel: b.channel, channel_id: id })
        })
        .name("q21: Add Channel Id")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channel_id_is_the_leftmost_parameter_at_start_or_after_an_ampersand() {
        assert_eq!(extract_channel_id("https://x/a/b/c/item.htm?query=1&channel_id=123"), Some("123"));
        assert_eq!(extract_channel_id("channel_id=7&channel_id=8"), Some("7"));
        assert_eq!(extract_channel_id("https://x/?xchannel_id=5"), None);
        assert_eq!(extract_channel_id("https://x/?q=1&channel_id=&b=2"), Some(""));
        assert_eq!(extract_channel_id("https://x/?q=1&channel_id=-2147483648&z"), Some("-2147483648"));
        assert_eq!(hot_channel_id("Google"), Some("1"));
        assert_eq!(hot_channel_id("channel-7"), None);
    }
}
