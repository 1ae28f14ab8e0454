import { useRef, useState, type ChangeEvent, type FormEvent } from 'react';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { profileSchema, updateProfileSchema, type Profile } from '@atelier/contracts';
import { Button } from '#/components/ui/button';
import { Field } from '#/components/ui/field';
import { useToast } from '#/components/ui/toast';
import { meQuery } from '#/features/auth/api';
import { profileQuery, removeAvatar, renameProfile } from '#/features/auth/identity-api';
import { describeError, uploadFile } from '#/lib/api-client';
import './profile.css';

/** Display name and profile picture. The picture is re-encoded by the server as a 256 px square and served to its owner only. */
export function ProfilePanel() {
  const profile = useQuery(profileQuery);
  const client = useQueryClient();
  const toast = useToast();
  const [name, setName] = useState<string | null>(null);
  const [nameError, setNameError] = useState<string>();
  const [isSaving, setSaving] = useState(false);
  const [isUploading, setUploading] = useState(false);
  const [version, setVersion] = useState(0);
  const fileInput = useRef<HTMLInputElement>(null);

  const apply = (next: Profile) => {
    client.setQueryData(profileQuery.queryKey, next);
    void client.invalidateQueries({ queryKey: meQuery.queryKey, exact: true });
  };

  if (!profile.data) return <section className="settings-card skeleton profile-skeleton" aria-label="Loading profile" />;
  const current = profile.data;
  const shownName = name ?? current.name;

  const onSave = async (event: FormEvent) => {
    event.preventDefault();
    const parsed = updateProfileSchema.safeParse({ name: shownName });
    if (!parsed.success) return setNameError(parsed.error.issues[0]?.message);
    setSaving(true);
    setNameError(undefined);
    try {
      apply(await renameProfile(parsed.data.name));
      setName(null);
      toast.success('Name saved');
    } catch (error) {
      setNameError(describeError(error));
    } finally {
      setSaving(false);
    }
  };

  const onPick = async (event: ChangeEvent<HTMLInputElement>) => {
    const file = event.target.files?.[0];
    event.target.value = '';
    if (!file) return;
    setUploading(true);
    try {
      apply(await uploadFile('/api/me/avatar', file, { schema: profileSchema }));
      setVersion((v) => v + 1);
    } catch (error) {
      toast.error('Could not use this picture', describeError(error));
    } finally {
      setUploading(false);
    }
  };

  const onRemove = async () => {
    try {
      apply(await removeAvatar());
    } catch (error) {
      toast.error('Could not remove the picture', describeError(error));
    }
  };

  return (
    <section className="settings-card" aria-labelledby="profile-title">
      <header className="settings-card__header">
        <div>
          <h2 id="profile-title" className="settings-card__title">
            Profile
          </h2>
          <p className="settings-card__text">
            Signed in as <strong>{current.email}</strong>
            {current.email_verified ? ' (verified)' : ' (not verified yet)'}.
          </p>
        </div>
      </header>
      <div className="profile">
        <div className="profile__avatar">
          {current.has_avatar ? <img src={`/api/me/avatar?v=${version}`} alt="Your profile picture" width={72} height={72} /> : <span aria-hidden="true">{(current.name[0] ?? '?').toUpperCase()}</span>}
        </div>
        <div className="profile__avatar-actions">
          <input ref={fileInput} type="file" accept="image/png,image/jpeg,image/webp" hidden onChange={(e) => void onPick(e)} aria-label="Choose a profile picture" />
          <Button size="sm" isBusy={isUploading} onClick={() => fileInput.current?.click()}>
            {current.has_avatar ? 'Change picture' : 'Upload picture'}
          </Button>
          {current.has_avatar && (
            <Button size="sm" variant="ghost" onClick={() => void onRemove()}>
              Remove
            </Button>
          )}
          <p className="settings-card__text">PNG, JPEG or WebP. Cropped to a square.</p>
        </div>
      </div>
      <form className="profile__name" onSubmit={(e) => void onSave(e)} noValidate>
        <Field label="Display name" error={nameError} className="profile__name-field">
          {({ id, describedBy, invalid }) => (
            <input id={id} className="input" autoComplete="name" maxLength={100} value={shownName} onChange={(e) => setName(e.target.value)} aria-describedby={describedBy} aria-invalid={invalid || undefined} />
          )}
        </Field>
        <Button type="submit" variant="primary" isBusy={isSaving} disabled={shownName.trim() === current.name}>
          Save
        </Button>
      </form>
    </section>
  );
}
