//! Notifications through SNS.

use super::aws_error;
use crate::error::HandlerError;
use crate::notify::{ATTRIBUTE_TYPE, Notification};
use crate::ports::{AwsResult, Notifier};
use aws_sdk_sns::Client;
use aws_sdk_sns::types::MessageAttributeValue;

#[derive(Debug, Clone)]
pub struct SdkSns {
    client: Client,
    topic_arn: String,
}

impl SdkSns {
    pub fn new(client: Client, topic_arn: String) -> Self {
        Self { client, topic_arn }
    }
}

impl Notifier for SdkSns {
    async fn publish(&self, notification: &Notification) -> AwsResult<String> {
        // Rendered and measured in one place: within SNS's 256 KiB, whatever the input.
        let publication = notification.publication();
        let mut request = self
            .client
            .publish()
            .topic_arn(&self.topic_arn)
            .subject(publication.subject)
            .message_structure("json")
            .message(publication.message);
        // FIFO topics deduplicate: a redelivered event publishes nothing new within 5 minutes.
        if self.topic_arn.ends_with(".fifo") {
            request = request.message_group_id(notification.group_id()).set_message_deduplication_id(notification.dedup_id());
        }
        for (name, value) in publication.attributes {
            let attribute = MessageAttributeValue::builder()
                .data_type(ATTRIBUTE_TYPE)
                .string_value(value)
                .build()
                .map_err(|err| aws_error("sns:Publish", err))?;
            request = request.message_attributes(name, attribute);
        }
        let output = request.send().await.map_err(|err| aws_error("sns:Publish", err))?;
        output.message_id.ok_or(HandlerError::Aws { operation: "sns:Publish", message: "the response has no message id".into() })
    }
}
